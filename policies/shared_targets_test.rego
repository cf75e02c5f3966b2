package shared_targets_test

import data.moderation

# Levels are read from data.json so retuning keeps these tests meaningful;
# the look-alikes use literal numbers: they are accounts the numbers must
# leave alone.

_cfg := data.config.shared_targets

_levels := _cfg.levels.personal

_new_days := data.config.bulk_add.new_account_days

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

# A young personal account in a ring of ring young accounts, overlap of its
# strangers shared, and 30 strangers today (under every bulk_add level);
# fields given in extra replace the signal's.
_input(age_days, ring, overlap, shared, strikes, extra) := {
	"account": {"id": "acct_r", "type": "personal", "verified": false, "age_days": age_days, "strikes": strikes, "status": "allow"},
	"signals": {
		"bulk_add": object.union(
			{
				"hour_strangers": 4, "day_strangers": 30, "week_strangers": 90, "month_strangers": 90,
				"responses": 0, "report_ratio": 0,
				"evidence": "4 friend requests to strangers in the last hour, 30 today",
			},
			object.get(extra, "bulk_add", {}),
		),
		"shared_targets": object.union(
			{
				"ring_accounts": ring,
				"overlap": overlap,
				"shared": shared,
				"evidence": sprintf("%v of 90 strangers added in 7 days were also added by other new accounts; %v new accounts added the same people", [shared, ring]),
			},
			object.get(extra, "shared_targets", {}),
		),
	},
	"event": {"id": "evt_1", "kind": "friend_add", "at": "2026-01-01T12:00:00Z"},
}

_action(age_days, ring, overlap, shared) := _decide(_input(age_days, ring, overlap, shared, 0, {})).action

test_data_levels_rise_with_severity if {
	_levels.limit < _levels.suspend
	_cfg.min_overlap > 0
	_cfg.min_overlap <= 1
}

test_fires_at_level[note] if {
	some level, ring in _levels
	note := sprintf("%s at %v", [level, ring])
	d := _decide(_input(3, ring, _cfg.min_overlap, _cfg.min_shared, 0, {}))
	d.action == level
	d.rule == "shared_targets"
	d.restricts == object.get({"limit": ["friend_add"]}, level, [])
}

test_does_not_fire_just_below_level[note] if {
	some level, ring in _levels
	some what, c in {
		"ring": {"ring": ring - 1, "overlap": 1, "shared": 500, "want": {"limit": "allow", "suspend": "limit"}[level]},
		"overlap": {"ring": ring, "overlap": _cfg.min_overlap - 0.01, "shared": 500, "want": "allow"},
		"shared": {"ring": ring, "overlap": 1, "shared": _cfg.min_shared - 1, "want": "allow"},
	}
	note := sprintf("%s, %s just below", [level, what])
	_action(3, c.ring, c.overlap, c.shared) == c.want
}

# The ring is of new accounts, and so is the account judged: an established
# account whose strangers overlap with new accounts' is not judged here.
test_only_new_accounts[note] if {
	some note, c in {
		"a day under the new-account age": {"age": _new_days - 0.01, "want": "suspend"},
		"at the new-account age": {"age": _new_days, "want": "allow"},
		"old": {"age": 900, "want": "allow"},
	}
	_action(c.age, 200, 1, 200) == c.want
}

test_only_personal_accounts[note] if {
	some note, type in {"subscription": "subscription", "service": "service", "enterprise": "enterprise"}
	doc := json.patch(_input(3, 200, 1, 200, 0, {}), [{"op": "replace", "path": "/account/type", "value": type}])
	_decide(doc).action == "allow"
}

# 30 new accounts each adding 20-40 strangers a day, under every
# per-account level, all from one pool of 600 people.
test_harvesting_ring_is_limited_or_worse if {
	d := _decide(_input(6, 30, 0.92, 83, 0, {}))
	moderation.severity[d.action] >= moderation.severity.limit
	d.action == "suspend"
	d.reasons == [{
		"code": "shared_targets",
		"detail": "83 of 90 strangers added in 7 days were also added by other new accounts; 30 new accounts added the same people; suspension level for accounts under 30 days: 25 or more new accounts adding the same strangers, at least 25% and 8 of this account's strangers shared",
	}]
}

test_reports_and_strikes_raise[note] if {
	some note, c in {
		"reported requests": {"strikes": 0, "bulk_add": {"report_ratio": 0.4, "responses": 30}, "want": "suspend"},
		"a strike": {"strikes": 1, "bulk_add": {}, "want": "suspend"},
		"reported and struck enough to close": {"strikes": data.config.close_after_strikes, "bulk_add": {"report_ratio": 0.4, "responses": 30}, "want": "close"},
	}
	_decide(_input(5, _levels.limit, 0.8, 40, c.strikes, {"bulk_add": c.bulk_add})).action == c.want
}

test_raise_is_explained if {
	d := _decide(_input(5, _levels.limit, 0.8, 40, 0, {"bulk_add": {"report_ratio": 0.4, "responses": 30}}))
	d.reasons[0].detail == "40 of 90 strangers added in 7 days were also added by other new accounts; 8 new accounts added the same people; limit for accounts under 30 days: 8 or more new accounts adding the same strangers, at least 25% and 8 of this account's strangers shared; raised to suspend because 40% of the 30 people who answered these requests reported them"
}

# New accounts that meet by chance: classmates adding a few people from
# the same group, a handful of new accounts sharing a couple of targets.
test_look_alikes_are_not_limited[note] if {
	some note, c in {
		"three new classmates adding the same group": {"ring": 3, "overlap": 0.9, "shared": 25},
		"many new accounts, a few shared targets": {"ring": 40, "overlap": 0.1, "shared": 4},
		"a big ring, each with a couple of shared targets": {"ring": 40, "overlap": 1, "shared": 3},
	}
	_action(4, c.ring, c.overlap, c.shared) == "allow"
}

test_evidence_missing_is_described if {
	doc := json.remove(_input(2, 12, 0.755, 34, 0, {}), ["signals/shared_targets/evidence"])
	_decide(doc).reasons == [{
		"code": "shared_targets",
		"detail": "34 of this account's recent friend requests to strangers (75.5%) went to people 11 other young accounts also added within 7 days; limit for accounts under 30 days: 8 or more new accounts adding the same strangers, at least 25% and 8 of this account's strangers shared",
	}]
}

test_woken_account_is_told_why_it_counts_as_new if {
	d := _decide(_input(1, 12, 0.8, 40, 0, {"bulk_add": {"dormant_days": 700}}))
	contains(d.reasons[0].detail, "for accounts under 30 days (this account was silent for 700 days before its current activity")
}

test_missing_signals_allow[note] if {
	some note, signals in {
		"no signals": {},
		"no ring": {"shared_targets": {"overlap": 1, "shared": 100}},
		"no overlap": {"shared_targets": {"ring_accounts": 100, "shared": 100}},
		"no shared": {"shared_targets": {"ring_accounts": 100, "overlap": 1}},
		"ring not a number": {"shared_targets": {"ring_accounts": "100", "overlap": 1, "shared": 100}},
	}
	_decide({"account": {"type": "personal", "age_days": 1}, "signals": signals}).action == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input(3, _levels.limit, 1, 100, 0, {}))
	d.title == "Friend requests to strangers shared with a ring of new accounts"
	d.ground == "Platform rules 4.2: bulk or automated friend requests"
	startswith(d.explanation, "This new account sent friend requests")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_every_level if {
	moderation.watch["shared_targets.ring_accounts"] == sort([l | some l in _levels])
	moderation.watch["shared_targets.overlap"] == [_cfg.min_overlap]
	moderation.watch["shared_targets.shared"] == [_cfg.min_shared]
}
