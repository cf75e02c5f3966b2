package bulk_add_test

import data.moderation

# Expectations for levels are read from data.json, so retuning a number keeps
# these tests meaningful; the scenarios further down use literal numbers
# because they are requirements the numbers must meet.

_levels := data.config.bulk_add.levels.personal

_new_days := data.config.bulk_add.new_account_days

# An age inside each tier.
_tier_age := {"new": 0.5, "established": 730}

_input(age_days, hour_strangers, strikes) := {
	"account": {
		"id": "acct_1",
		"type": "personal",
		"verified": false,
		"age_days": age_days,
		"strikes": strikes,
		"status": "allow",
	},
	"signals": {"bulk_add": {
		"hour": hour_strangers,
		"hour_strangers": hour_strangers,
		"distinct_targets_hour": hour_strangers,
		"stranger_share": 1,
		"evidence": sprintf("%v friend requests in the last hour", [hour_strangers]),
	}},
	"event": {"id": "evt_1", "kind": "friend_add", "at": "2026-01-01T12:00:00Z"},
}

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

_action(age_days, hour_strangers, strikes) := _decide(_input(age_days, hour_strangers, strikes)).action

# The action one step below a level on the ladder: what a value just under
# the level's threshold must get, the lower levels being lower numbers.
_below(level) := moderation.ladder[moderation.severity[level] - 1]

test_data_levels_rise_with_severity if {
	every levels in _levels {
		levels.warn < levels.limit
		levels.limit < levels.suspend
	}
}

test_data_new_accounts_are_held_to_lower_levels if {
	every level, threshold in _levels.new {
		threshold < _levels.established[level]
	}
}

test_fires_at_level[note] if {
	some tier, levels in _levels
	some level, threshold in levels
	note := sprintf("%s %s at %v", [tier, level, threshold])
	_action(_tier_age[tier], threshold, 0) == level
}

test_does_not_fire_just_below_level[note] if {
	some tier, levels in _levels
	some level, threshold in levels
	note := sprintf("%s %s below %v", [tier, level, threshold])
	_action(_tier_age[tier], threshold - 1, 0) == _below(level)
}

test_tier_boundary[note] if {
	some note, c in {
		"just under the new-account age is new": {"age": _new_days - 0.01, "want": "warn"},
		"at the new-account age is established": {"age": _new_days, "want": "allow"},
	}
	_action(c.age, _levels.new.warn, 0) == c.want
}

test_strikes_escalate_one_step[note] if {
	some note, c in {
		"warn becomes limit": {"level": "warn", "strikes": 1, "want": "limit"},
		"limit becomes suspend": {"level": "limit", "strikes": 1, "want": "suspend"},
		"suspend never becomes close": {"level": "suspend", "strikes": 5, "want": "suspend"},
		"no strikes change nothing": {"level": "warn", "strikes": 0, "want": "warn"},
		"malformed strikes count as none": {"level": "warn", "strikes": "3", "want": "warn"},
	}
	_action(_tier_age.new, _levels.new[c.level], c.strikes) == c.want
}

test_escalation_is_explained if {
	d := _decide(_input(_tier_age.new, 40, 1))
	d.action == "limit"
	d.reasons == [{
		"code": "bulk_add",
		"detail": "40 friend requests in the last hour; warning level for accounts under 30 days: 40 to strangers in one hour; raised to limit because of earlier strikes on this account (1)",
	}]
}

# A 12-hour-old account sending 300 requests to strangers over two hours
# (about 150 an hour) must be limited or worse.
test_new_account_150_an_hour_is_limited if {
	d := _decide(_input(0.5, 150, 0))
	moderation.severity[d.action] >= moderation.severity.limit
	d.action == "limit"
	d.duration == "24h"
	d.restricts == ["friend_add"]
	d.appealable == true
	d.automated_decision == "fully"
	d.rule == "bulk_add"
	d.reasons == [{
		"code": "bulk_add",
		"detail": "150 friend requests in the last hour; limit for accounts under 30 days: 100 to strangers in one hour",
	}]
}

test_established_account_adding_5_contacts_is_allowed if {
	d := _decide(_input(730, 5, 0))
	d.action == "allow"
	d.reasons == []
}

test_qr_organiser_is_allowed if {
	doc := {
		"account": {"id": "acct_2", "type": "personal", "age_days": 2, "strikes": 0},
		"signals": {"bulk_add": {
			"hour": 800,
			"hour_strangers": 0,
			"distinct_targets_hour": 800,
			"stranger_share": 0,
			"evidence": "800 friend requests in the last hour, 0% to strangers (qr)",
		}},
	}
	_decide(doc).action == "allow"
}

test_missing_signals_allow[note] if {
	some note, doc in {
		"no input": {},
		"no signals": {"account": {"type": "personal", "age_days": 1}},
		"other signals only": {"account": {"type": "personal", "age_days": 1}, "signals": {"ad_content": {"score": 1}}},
		"bulk_add without hour_strangers": {"account": {"type": "personal", "age_days": 1}, "signals": {"bulk_add": {"hour": 900}}},
		"hour_strangers not a number": {"account": {"type": "personal", "age_days": 1}, "signals": {"bulk_add": {"hour_strangers": "900"}}},
	}
	_decide(doc).action == "allow"
}

test_only_personal_accounts[note] if {
	some note, type in {
		"subscription": "subscription",
		"service": "service",
		"enterprise": "enterprise",
	}
	doc := json.patch(_input(0.5, 10000, 0), [{"op": "replace", "path": "/account/type", "value": type}])
	_decide(doc).action == "allow"
}

test_unknown_age_counts_as_new if {
	doc := json.remove(_input(0, _levels.new.suspend, 0), ["account/age_days"])
	_decide(doc).action == "suspend"
}

test_evidence_missing_is_described if {
	doc := json.remove(_input(730, _levels.established.warn, 0), ["signals/bulk_add/evidence"])
	d := _decide(doc)
	d.reasons == [{
		"code": "bulk_add",
		"detail": "150 friend requests to strangers in one hour; warning level for accounts 30 days or older: 150 to strangers in one hour",
	}]
}

test_action_shape[note] if {
	some note, c in {
		"warn": {"level": "warn", "duration": "", "restricts": [], "appealable": false},
		"limit": {"level": "limit", "duration": "24h", "restricts": ["friend_add"], "appealable": true},
		"suspend": {"level": "suspend", "duration": "168h", "restricts": [], "appealable": true},
	}
	d := _decide(_input(_tier_age.established, _levels.established[c.level], 0))
	d.action == c.level
	d.duration == c.duration
	d.restricts == c.restricts
	d.appealable == c.appealable
}

# Title, ground and explanation come from the rule's # METADATA.
test_metadata_flows_into_decision if {
	d := _decide(_input(_tier_age.new, _levels.new.warn, 0))
	d.title == "Friend requests to strangers in bulk"
	d.ground == "Platform rules 4.2: bulk or automated friend requests"
	startswith(d.explanation, "This account sent a large number of friend requests")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_every_level[note] if {
	some tier, levels in _levels
	some level, threshold in levels
	note := sprintf("%s %s %v", [tier, level, threshold])
	threshold in moderation.watch["bulk_add.hour_strangers"]
}

# Nothing but the levels, once each, in order: the judge bisects the array.
test_watch_is_exactly_the_sorted_levels if {
	thresholds := {threshold | some levels in _levels; some threshold in levels}
	moderation.watch == {"bulk_add.hour_strangers": sort(thresholds)}
}

# The contract behind watch: between two neighbouring watched levels the
# answer does not change, so the judge may skip evaluating there.
test_answer_changes_only_at_watched_levels[note] if {
	watched := moderation.watch["bulk_add.hour_strangers"]
	probes := {p | some l in watched; some p in [l - 1, l, l + 1]} | {0, 10000}
	some tier, age in _tier_age
	some strikes in [0, 1]
	some n in probes
	note := sprintf("%s strikes %v at %v", [tier, strikes, n])
	floor := max({l | some l in watched; l <= n} | {0})
	_action(age, n, strikes) == _action(age, floor, strikes)
}
