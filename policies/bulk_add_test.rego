package bulk_add_test

import data.moderation

# Expectations for levels are read from data.json, so retuning a number keeps
# these tests meaningful; the scenarios further down use literal numbers
# because they are requirements the numbers must meet.

_levels := data.config.bulk_add.levels.personal

_new_days := data.config.bulk_add.new_account_days

_close_after := data.config.close_after_strikes

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
		"suspend stays one strike short of closing": {"level": "suspend", "strikes": _close_after - 1, "want": "suspend"},
		"suspend closes at close_after_strikes": {"level": "suspend", "strikes": _close_after, "want": "close"},
		"limit closes through suspend": {"level": "limit", "strikes": _close_after, "want": "close"},
		"warn is only limit however many strikes": {"level": "warn", "strikes": 9, "want": "limit"},
		"no strikes change nothing": {"level": "warn", "strikes": 0, "want": "warn"},
		"malformed strikes count as none": {"level": "warn", "strikes": "3", "want": "warn"},
	}
	_action(_tier_age.new, _levels.new[c.level], c.strikes) == c.want
}

test_closing_for_strikes_is_explained if {
	d := _decide(_input(_tier_age.new, 250, 3))
	d.action == "close"
	d.duration == ""
	d.restricts == []
	d.appealable == true
	d.reasons == [{
		"code": "bulk_add",
		"detail": "250 friend requests in the last hour; suspension level for accounts under 30 days: 250 to strangers in one hour; closed because this account was suspended or limited 3 times in the last 90 days",
	}]
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
	cfg := data.config.bulk_add
	hour := {threshold | some levels in cfg.levels.personal; some threshold in levels}
	day := {threshold | some levels in cfg.day_levels.personal; some threshold in levels}
	week := {threshold | some levels in cfg.week_levels.personal; some threshold in levels}
	month := {threshold | some levels in cfg.month_levels.personal; some threshold in levels}
	bulk_add_watch := {metric: levels |
		some metric, levels in moderation.watch
		startswith(metric, "bulk_add.")
	}
	bulk_add_watch == {
		"bulk_add.hour_strangers": sort(hour),
		"bulk_add.day_strangers": sort(day),
		"bulk_add.week_strangers": sort(week),
		"bulk_add.month_strangers": sort(month),
		"bulk_add.report_ratio": [cfg.reported.report_ratio],
		"bulk_add.responses": [cfg.reported.min_responses],
		"bulk_add.month_stranger_answers": [cfg.woken.min_answers],
		"bulk_add.month_stranger_reject_ratio": [cfg.woken.reject_ratio],
		"bulk_add.woken_outside_groups": [cfg.woken.max_outside_groups],
		"bulk_add.dormant_days": [cfg.new_account_days],
		"bulk_add.unrecorded": [1],
	}
}

# The age levels the rules compare are watched as account.age_days.
test_age_levels_are_watched if {
	moderation.watch["account.age_days"] == [data.config.bulk_add.new_account_days]
}

# The contract behind watch: between two neighbouring watched levels the
# answer does not change, so the judge may skip evaluating there.
test_answer_changes_only_at_watched_levels[note] if {
	watched := moderation.watch["bulk_add.hour_strangers"]
	probes := {p | some l in watched; some p in [l - 1, l, l + 1]} | {0, 10000}
	some tier, age in _tier_age
	some strikes in [0, 1]

	# Each probe once: the floors are probes too.
	actions := {n: _action(age, n, strikes) | some n in probes}
	some n, action in actions
	note := sprintf("%s strikes %v at %v", [tier, strikes, n])
	floor := max({l | some l in watched; l <= n} | {0})
	action == actions[floor]
}

# ---- bulk_add_day: strangers added steadily over a whole day ----

_day_levels := data.config.bulk_add.day_levels.personal

_reported := data.config.bulk_add.reported

# An account that keeps each hour quiet but adds day_strangers over the day;
# fields given in extra replace the signal's.
_day_input(age_days, day_strangers, strikes, extra) := json.patch(_input(age_days, 0, strikes), [{
	"op": "replace",
	"path": "/signals/bulk_add",
	"value": object.union(
		{
			"hour": 0,
			"hour_strangers": 0,
			"day": day_strangers,
			"day_strangers": day_strangers,
			"stranger_share": 1,
			"responses": 0,
			"report_ratio": 0,
			"reject_ratio": 0,
			"evidence": sprintf("%v friend requests to strangers today", [day_strangers]),
		},
		extra,
	),
}])

_day_action(age_days, day_strangers, strikes) := _decide(_day_input(age_days, day_strangers, strikes, {})).action

test_data_day_levels_rise_with_severity if {
	every levels in _day_levels {
		levels.warn < levels.limit
		levels.limit < levels.suspend
	}
}

test_data_day_levels_are_lower_for_new_accounts if {
	every level, threshold in _day_levels.new {
		threshold < _day_levels.established[level]
	}
}

# A day holds its last hour, so a day level under the hour level of the
# same tier would make the hour level dead.
test_data_day_levels_at_least_hour_levels[note] if {
	some tier, levels in _day_levels
	some level, threshold in levels
	note := sprintf("%s %s", [tier, level])
	threshold >= _levels[tier][level]
}

test_day_fires_at_level[note] if {
	some tier, levels in _day_levels
	some level, threshold in levels
	note := sprintf("%s %s at %v", [tier, level, threshold])
	d := _decide(_day_input(_tier_age[tier], threshold, 0, {}))
	d.action == level
	d.rule == "bulk_add_day"
	[r.code | some r in d.reasons] == ["bulk_add_day"]
}

test_day_does_not_fire_just_below_level[note] if {
	some tier, levels in _day_levels
	some level, threshold in levels
	note := sprintf("%s %s below %v", [tier, level, threshold])
	_day_action(_tier_age[tier], threshold - 1, 0) == _below(level)
}

# 45 strangers an hour for 12 hours: every hour under the warning level of an
# established account, the day over its limit.
test_steady_all_day_adder_is_limited if {
	d := _decide(_day_input(730, 540, 0, {"hour": 45, "hour_strangers": 45}))
	d.action == "limit"
	d.rule == "bulk_add_day"
	d.restricts == ["friend_add"]
	d.duration == "24h"
	d.reasons == [{
		"code": "bulk_add_day",
		"detail": "540 friend requests to strangers today; limit for accounts 30 days or older: 500 to strangers in one day",
	}]
}

# After an event, an organiser adds 150 people who scanned a QR code, within
# the hour: none is a stranger and nobody reports anything.
test_qr_organiser_after_event_is_allowed[note] if {
	some note, age in {"new account": 2, "established account": 730}
	doc := _day_input(age, 0, 0, {
		"minute": 20,
		"hour": 150,
		"day": 150,
		"distinct_targets_hour": 150,
		"stranger_share": 0,
		"responses": 140,
		"report_ratio": 0,
		"reject_ratio": 0.05,
		"evidence": "150 friend requests in the last hour, 0% to strangers (qr)",
	})
	d := _decide(doc)
	d.action == "allow"
	d.reasons == []
}

# Requests their recipients report make the action one step stronger, in
# either window, and only over enough answers.
test_reported_requests_raise_one_step[note] if {
	some note, c in {
		"day warn at the report share": {"ratio": _reported.report_ratio, "responses": _reported.min_responses, "want": "limit"},
		"day warn just under the report share": {"ratio": _reported.report_ratio - 0.01, "responses": 500, "want": "warn"},
		"day warn with one answer too few": {"ratio": 1, "responses": _reported.min_responses - 1, "want": "warn"},
		"day warn, reports missing": {"ratio": null, "responses": null, "want": "warn"},
	}
	doc := _day_input(730, _day_levels.established.warn, 0, {"report_ratio": c.ratio, "responses": c.responses})
	_decide(doc).action == c.want
}

test_reported_requests_raise_the_hour_rule_too if {
	doc := json.patch(_input(730, _levels.established.limit, 0), [
		{"op": "add", "path": "/signals/bulk_add/report_ratio", "value": 0.5},
		{"op": "add", "path": "/signals/bulk_add/responses", "value": 40},
	])
	d := _decide(doc)
	d.action == "suspend"
	d.reasons == [{
		"code": "bulk_add",
		"detail": "300 friend requests in the last hour; limit for accounts 30 days or older: 300 to strangers in one hour; raised to suspend because 50% of the 40 people who answered these requests reported them",
	}]
}

test_reports_alone_do_not_fire if {
	doc := _day_input(730, _day_levels.established.warn - 1, 0, {"report_ratio": 1, "responses": 200})
	_decide(doc).action == "allow"
}

# Reports never reach close on their own; strikes close only a suspension,
# here one the reports and a strike made of a warning.
test_reports_and_strikes_add_up[note] if {
	some note, c in {
		"warn, reported, struck": {"level": "warn", "strikes": 1, "want": "suspend"},
		"suspend, reported, struck short of closing": {"level": "suspend", "strikes": _close_after - 1, "want": "suspend"},
		"suspend, reported, no strikes": {"level": "suspend", "strikes": 0, "want": "suspend"},
		"warn, reported, struck enough to close": {"level": "warn", "strikes": _close_after, "want": "close"},
	}
	doc := _day_input(_tier_age.new, _day_levels.new[c.level], c.strikes, {"report_ratio": 0.6, "responses": 50})
	_decide(doc).action == c.want
}

test_reports_and_strikes_are_explained if {
	doc := _day_input(_tier_age.new, _day_levels.new.warn, 1, {"report_ratio": 0.345, "responses": 29})
	_decide(doc).reasons == [{
		"code": "bulk_add_day",
		"detail": "100 friend requests to strangers today; warning level for accounts under 30 days: 100 to strangers in one day; raised to limit because 35% of the 29 people who answered these requests reported them; raised to suspend because of earlier strikes on this account (1)",
	}]
}

test_day_evidence_missing_is_described if {
	doc := json.remove(_day_input(730, 1000, 0, {}), ["signals/bulk_add/evidence"])
	_decide(doc).reasons == [{
		"code": "bulk_add_day",
		"detail": "1000 friend requests to strangers in one day; suspension level for accounts 30 days or older: 1000 to strangers in one day",
	}]
}

# Both windows over their levels: both are reasons, the stronger decides.
test_hour_and_day_together if {
	doc := _day_input(_tier_age.new, _day_levels.new.suspend, 0, {"hour_strangers": _levels.new.warn})
	d := _decide(doc)
	d.action == "suspend"
	d.rule == "bulk_add_day"
	[r.code | some r in d.reasons] == ["bulk_add_day", "bulk_add"]
}

test_day_rule_only_personal_accounts[note] if {
	some note, type in {"subscription": "subscription", "service": "service", "enterprise": "enterprise"}
	doc := json.patch(_day_input(0.5, 100000, 0, {}), [{"op": "replace", "path": "/account/type", "value": type}])
	_decide(doc).action == "allow"
}

test_day_metadata_flows_into_decision if {
	d := _decide(_day_input(_tier_age.new, _day_levels.new.warn, 0, {}))
	d.title == "Friend requests to strangers all day"
	d.ground == "Platform rules 4.2: bulk or automated friend requests"
	startswith(d.explanation, "Over one day this account sent friend requests")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

# ---- bulk_add_week and bulk_add_month: the slow drip ----

_long_windows := {"week": "week_strangers", "month": "month_strangers"}

_long_levels := {
	"week": data.config.bulk_add.week_levels.personal,
	"month": data.config.bulk_add.month_levels.personal,
}

# An account that keeps every hour and day quiet (20 strangers today) but
# adds n strangers over window; fields given in extra replace the signal's.
_long_input(age_days, window, n, strikes, extra) := _day_input(age_days, 20, strikes, object.union(
	{
		"hour_strangers": 3,
		"week_strangers": 0,
		"month_strangers": 0,
		"evidence": sprintf("3 friend requests to strangers in the last hour, 20 today, %v in %s", [n, window]),
	},
	object.union({_long_windows[window]: n}, extra),
))

_long_action(age_days, window, n, strikes) := _decide(_long_input(age_days, window, n, strikes, {})).action

test_data_long_levels_rise_with_severity[note] if {
	some window, tiers in _long_levels
	some tier, levels in tiers
	note := sprintf("%s %s", [window, tier])
	levels.warn < levels.limit
	levels.limit < levels.suspend
}

test_data_long_levels_are_lower_for_new_accounts[note] if {
	some window, tiers in _long_levels
	some level, threshold in tiers.new
	note := sprintf("%s %s", [window, level])
	threshold < tiers.established[level]
}

# A longer window holds the shorter one, so its level is never under the
# shorter window's: otherwise the shorter window's level would be dead.
test_data_longer_windows_have_higher_levels[note] if {
	some pair in [["day", _day_levels, "week", _long_levels.week], ["week", _long_levels.week, "month", _long_levels.month]]
	some tier, levels in pair[1]
	some level, threshold in levels
	note := sprintf("%s %s %s under %s", [pair[2], tier, level, pair[0]])
	pair[3][tier][level] >= threshold
}

test_long_fires_at_level[note] if {
	some window, tiers in _long_levels
	some tier, levels in tiers
	some level, threshold in levels
	note := sprintf("%s %s %s at %v", [window, tier, level, threshold])
	d := _decide(_long_input(_tier_age[tier], window, threshold, 0, {}))
	d.action == level
	d.rule == sprintf("bulk_add_%s", [window])
	[r.code | some r in d.reasons] == [d.rule]
}

test_long_does_not_fire_just_below_level[note] if {
	some window, tiers in _long_levels
	some tier, levels in tiers
	some level, threshold in levels
	note := sprintf("%s %s %s below %v", [window, tier, level, threshold])
	_long_action(_tier_age[tier], window, threshold - 1, 0) == _below(level)
}

# A three-week-old account adding 25 strangers a day, every day: each hour
# and day far under the levels, 525 over three weeks and 175 in the last
# week, is limited for the month; so is 20 a day for two weeks.
test_slow_drip_from_a_new_account_is_limited if {
	doc := _long_input(21, "month", 525, 0, {"week_strangers": 175, "day_strangers": 25})
	d := _decide(doc)
	d.action == "limit"
	d.rule == "bulk_add_month"
	doc2 := _long_input(14, "month", 280, 0, {"week_strangers": 140, "day_strangers": 20})
	d2 := _decide(doc2)
	d2.action == "limit"
	d2.rule == "bulk_add_month"
	d2.restricts == ["friend_add"]
	d2.reasons == [
		{
			"code": "bulk_add_month",
			"detail": "3 friend requests to strangers in the last hour, 20 today, 280 in month; limit for accounts under 30 days: 250 to strangers in 30 days",
		},
		{
			"code": "bulk_add_week",
			"detail": "3 friend requests to strangers in the last hour, 20 today, 280 in month; warning level for accounts under 30 days: 100 to strangers in 7 days",
		},
	]
}

# The drip outlives the new-account age: 20 a day for 30 days is warned
# once the account counts as established (the admin of two full groups
# adds as many), and 34 a day is limited.
test_slow_drip_past_the_new_account_age_is_limited if {
	_long_action(35, "month", 600, 0) == "warn"
	_long_action(35, "month", 1020, 0) == "limit"
}

# A bought account: created years ago, silent for 400 days, and judged from
# when it woke once the strangers it asked have answered, mostly ignoring
# it; the owner is told why an old account is held to new levels.
test_woken_account_is_told_why_it_counts_as_new if {
	doc := _long_input(1, "week", 250, 0, {
		"dormant_days": 400, "month_stranger_answers": 40, "month_stranger_reject_ratio": 0.8,
		"evidence": "250 friend requests to strangers in 7 days",
	})
	d := _decide(doc)
	d.action == "limit"
	d.reasons == [{
		"code": "bulk_add_week",
		"detail": "250 friend requests to strangers in 7 days; limit for accounts under 30 days (this account was silent for 400 days before its current activity, so its age counts from when it became active again, and 80% of the 40 strangers who answered its requests in the last 30 days ignored or reported them, so the warning level is its limit): 100 to strangers in 7 days",
	}]
}

# ---- a woken account: judged by how the strangers it asked answered ----

_woken := data.config.bulk_add.woken

# A woken account (a day awake after 700 days of silence) that added n
# strangers over window, all found in groups, answered by answers strangers
# of whom a share reject ignored or reported the request.
_woken_input(window, n, answers, reject) := _woken_outside_input(window, n, answers, reject, 0)

# The same, outside of them found outside groups (by search or otherwise).
_woken_outside_input(window, n, answers, reject, outside) := _long_input(1, "week", 0, 0, {
	_window_metric[window]: n,
	"dormant_days": 700,
	"month_stranger_answers": answers,
	"month_stranger_reject_ratio": reject,
	"woken_outside_groups": outside,
})

_window_metric := {"hour": "hour_strangers", "day": "day_strangers", "week": "week_strangers", "month": "month_strangers"}

_woken_action(window, n, answers, reject) := _decide(_woken_input(window, n, answers, reject)).action

_all_levels := {
	"hour": _levels, "day": _day_levels,
	"week": _long_levels.week, "month": _long_levels.month,
}

# Whatever the window: until enough strangers have answered, a new
# account's limit is a warning and an established account's levels limit
# and suspend; just under each, one step less.
test_woken_pending_levels[note] if {
	some window, tiers in _all_levels
	some answers in [0, _woken.min_answers - 1]
	some level, threshold in {
		"warn": min([tiers.new.limit, tiers.established.warn]),
		"limit": tiers.established.limit,
		"suspend": tiers.established.suspend,
	}
	note := sprintf("%s %s at %v with %v answers", [window, level, threshold, answers])
	_woken_action(window, threshold, answers, 1) == level
	_woken_action(window, threshold - 1, answers, 1) == _below(level)
}

# Before enough strangers have answered, a woken account that asked
# max_outside_groups strangers found outside groups is held to a new
# account's levels whatever the window: it is no group admin, and a platform
# that reports no answers must not leave a bought account only warned. One
# fewer keeps the pending levels.
test_woken_outside_groups_levels[note] if {
	some window, tiers in _all_levels
	some answers in [0, _woken.min_answers - 1]
	some level, threshold in tiers.new
	note := sprintf("%s %s at %v with %v answers", [window, level, threshold, answers])
	outside := _woken.max_outside_groups
	_decide(_woken_outside_input(window, threshold, answers, 1, outside)).action == level
	_decide(_woken_outside_input(window, threshold - 1, answers, 1, outside)).action == _below(level)
	_decide(_woken_outside_input(window, tiers.new.limit, answers, 1, outside - 1)).action == "warn"
}

# Once enough have answered, the answers decide, wherever the strangers
# were found.
test_woken_answers_outweigh_outside_groups if {
	_decide(_woken_outside_input("day", 280, 50, 0.1, 200)).action == "allow"
	_decide(_woken_outside_input("day", 280, 50, 0.9, 0)).action == "limit"
}

# Once min_answers strangers have answered: when at least reject_ratio of
# them refused, a new account's warning level limits and its suspension
# level suspends; just under the ratio, established levels.
_unwelcome_levels(tiers) := {"limit": tiers.new.warn, "suspend": tiers.new.suspend}

_unwelcome_below := {"limit": "allow", "suspend": "limit"}

test_woken_answered_levels[note] if {
	some window, tiers in _all_levels
	some standing, c in {
		"unwelcome": {"reject": _woken.reject_ratio, "levels": _unwelcome_levels(tiers), "below": _unwelcome_below},
		"established": {"reject": _woken.reject_ratio - 0.01, "levels": tiers.established, "below": {l: _below(l) | some l, _ in tiers.established}},
	}
	some level, threshold in c.levels
	note := sprintf("%s %s %s at %v", [window, standing, level, threshold])
	_woken_action(window, threshold, _woken.min_answers, c.reject) == level
	_woken_action(window, threshold - 1, _woken.min_answers, c.reject) == c.below[level]
}

# A new account that never slept, whose strangers mostly refuse it, is held
# to the same: at the warning level it is limited once min_answers have
# answered with reject_ratio refusing, warned with one answer fewer or a
# ratio just under; the owner is told why.
_unwelcome_doc(window, n, answers, reject) := _long_input(5, "week", 0, 0, {
	_window_metric[window]: n,
	"month_stranger_answers": answers,
	"month_stranger_reject_ratio": reject,
})

test_unwelcome_new_account[note] if {
	some window, tiers in _all_levels
	note := window
	n := tiers.new.warn
	_decide(_unwelcome_doc(window, n, _woken.min_answers, _woken.reject_ratio)).action == "limit"
	_decide(_unwelcome_doc(window, n, _woken.min_answers - 1, 1)).action == "warn"
	_decide(_unwelcome_doc(window, n, _woken.min_answers, _woken.reject_ratio - 0.01)).action == "warn"
}

test_unwelcome_new_account_is_told_why if {
	d := _decide(_long_input(5, "week", 120, 0, {"month_stranger_answers": 35, "month_stranger_reject_ratio": 0.7}))
	d.action == "limit"
	some r in d.reasons
	r.code == "bulk_add_week"
	endswith(r.detail, "limit for accounts under 30 days whose requests most strangers refuse (70% of the 35 strangers who answered this account's requests in the last 30 days ignored or reported them, so the warning level is its limit): 100 to strangers in 7 days")
}

# A quiet group admin, years old and unseen here, adds 280 of its group's
# members in a day: warned while its members have yet to answer, and
# nothing once most of them accepted. A bought account faking it (group
# source, an admin's greeting) is limited once the strangers it asked
# answer, mostly by ignoring it.
test_woken_group_admin_and_its_imitator if {
	admin := {"hour_strangers": 80, "day_strangers": 280, "week_strangers": 280, "month_strangers": 280, "dormant_days": 900, "woken_outside_groups": 0}
	_decide(_long_input(0, "week", 280, 0, object.union(admin, {"month_stranger_answers": 12, "month_stranger_reject_ratio": 0.1}))).action == "warn"
	_decide(_long_input(0, "week", 280, 0, object.union(admin, {"month_stranger_answers": 60, "month_stranger_reject_ratio": 0.15}))).action == "allow"
	d := _decide(_long_input(0, "week", 280, 0, object.union(admin, {"month_stranger_answers": 25, "month_stranger_reject_ratio": 0.76})))
	d.action == "limit"
	d.restricts == ["friend_add"]
}

# The owner reads which standing it was judged in, and why.
test_woken_standing_is_explained[note] if {
	some note, c in {
		"pending": {"answers": 3, "reject": 0, "want": "an account woken from a long silence whose requests too few strangers have answered yet (this account was silent for 700 days before its current activity; 3 of the strangers it asked answered in the last 30 days, and until 20 have, a new account's limit is a warning and an established account's levels apply): 1000 to strangers in 30 days"},
		"welcome": {"answers": 50, "reject": 0.1, "want": "accounts 30 days or older (this account was silent for 700 days before its current activity, but 90% of the 50 strangers who answered its requests in the last 30 days accepted them): 1000 to strangers in 30 days"},
		"outside groups": {"n": 600, "answers": 3, "reject": 0, "outside": 42, "want": "accounts under 30 days (this account was silent for 700 days before its current activity, so its age counts from when it became active again, and since then it asked 42 strangers found outside groups, by search or otherwise, before enough of the strangers it asked had answered): 250 to strangers in 30 days"},
	}
	d := _decide(_woken_outside_input("month", object.get(c, "n", 1100), c.answers, c.reject, object.get(c, "outside", 0)))
	some r in d.reasons
	r.code == "bulk_add_month"
	endswith(r.detail, c.want)
}

# A missing or malformed count of answers is pending, never welcome; a
# malformed share once enough answered judges the account as new; a
# missing or malformed count of strangers asked outside groups gives no
# benefit of the doubt.
test_woken_malformed_answers[note] if {
	some note, c in {
		"no answers": {"extra": {}, "want": "warn"},
		"answers not a number": {"extra": {"month_stranger_answers": "40", "month_stranger_reject_ratio": 0}, "want": "warn"},
		"share not a number": {"extra": {"month_stranger_answers": 40, "month_stranger_reject_ratio": "0"}, "want": "limit"},
		"outside groups missing": {"extra": {"woken_outside_groups": null}, "want": "limit"},
		"outside groups not a number": {"extra": {"woken_outside_groups": "0"}, "want": "limit"},
	}
	base := {"dormant_days": 700, "woken_outside_groups": 0}
	d := _decide(_long_input(1, "week", 250, 0, object.union(base, c.extra)))
	d.action == c.want
}

# Answers change nothing for an account that never slept: a new account
# whose strangers all accept is still held to new levels.
test_answers_do_not_raise_a_new_account if {
	_decide(_long_input(1, "week", 250, 0, {"month_stranger_answers": 100, "month_stranger_reject_ratio": 0})).action == "limit"
}

test_dormancy_is_not_mentioned_for_ordinary_accounts[note] if {
	some note, c in {
		"new account, short silence": {"age": 10, "dormant": 5},
		"established account after a long silence": {"age": 400, "dormant": 90},
	}
	doc := _long_input(c.age, "month", 5000, 0, {"dormant_days": c.dormant})
	d := _decide(doc)
	d.action == "suspend" # the reasons are there to look at
	every r in d.reasons {
		not contains(r.detail, "silent")
	}
}

test_long_evidence_missing_is_described if {
	doc := json.remove(_long_input(730, "week", 1234, 0, {}), ["signals/bulk_add/evidence"])
	_decide(doc).reasons == [{
		"code": "bulk_add_week",
		"detail": "1234 friend requests to strangers in 7 days; limit for accounts 30 days or older: 1000 to strangers in 7 days",
	}]
}

# Group admins adding their groups' members, and a trade fair where old
# accounts add hundreds by QR code and card in an afternoon: the first are
# strangers (found in a group) but few over a month; the second are not
# strangers at all.
test_long_window_look_alikes_are_not_limited[note] if {
	some note, c in {
		"group admin adding 250 members in a day": {"age": 900, "extra": {"hour_strangers": 140, "day_strangers": 250, "week_strangers": 280, "month_strangers": 390}},
		"trade fair by QR code and card": {"age": 1200, "extra": {"hour": 350, "day": 600, "hour_strangers": 0, "day_strangers": 0, "week_strangers": 12, "month_strangers": 40}},
	}
	d := _decide(_long_input(c.age, "week", 0, 0, c.extra))
	moderation.severity[d.action] < moderation.severity.limit
}

test_long_metadata_flows_into_decision[window] if {
	some window, title in {"week": "Friend requests to strangers day after day", "month": "Friend requests to strangers all month"}
	d := _decide(_long_input(_tier_age.new, window, _long_levels[window].new.warn, 0, {}))
	d.title == title
	d.ground == "Platform rules 4.2: bulk or automated friend requests"
	startswith(d.explanation, "Over the last ")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

# An old account first seen before the service had watched long enough to
# tell a silence: nothing of its past is on record (unrecorded_days), and it
# is judged as a woken account is, by how the strangers it asks answer.
_unrecorded_input(unrecorded, answers, reject, outside) := _long_input(0.5, "week", 0, 0, {
	"day_strangers": data.config.bulk_add.day_levels.personal.new.limit,
	"dormant_days": 0,
	"unrecorded": unrecorded,
	"month_stranger_answers": answers,
	"month_stranger_reject_ratio": reject,
	"woken_outside_groups": outside,
})

# Flagged, it is woken: asking only in groups, a new account's limit warns;
# unflagged (or a malformed flag), it is a new account, limited.
test_unrecorded_past_flag_or_not[note] if {
	some note, c in {"flagged": {"flag": 1, "want": "warn"}, "not": {"flag": 0, "want": "limit"}, "malformed": {"flag": "1", "want": "limit"}}
	_decide(_unrecorded_input(c.flag, 0, 0, 0)).action == c.want
}

# A bought account on a service that has just started: its searches hold it
# to a new account's levels, and its owner is told why.
test_unrecorded_bought_account_is_limited_and_told_why if {
	d := _decide(_unrecorded_input(1, 2, 0, 150))
	d.action == "limit"
	some r in d.reasons
	r.code == "bulk_add_day"
	contains(r.detail, "(this account has no activity on record before its first activity here, so its age counts from its first activity here, and since then it asked 150 strangers found outside groups")
	not contains(r.detail, "silent")
}

# The same requests, with the strangers mostly accepting: established.
test_unrecorded_account_whose_strangers_accept_is_established if {
	d := _decide(_unrecorded_input(1, 60, 0.1, 150))
	d.action == "allow"
}

test_unrecorded_pending_is_explained if {
	d := _decide(_unrecorded_input(1, 3, 0, 0))
	d.action == "warn"
	some r in d.reasons
	contains(r.detail, "an old account with no earlier activity on record whose requests too few strangers have answered yet (this account has no activity on record before its first activity here; 3 of the strangers it asked answered")
}

# An established account whose strangers mostly refuse it is held to the
# same: its own warning level limits it, and just under it, nothing.
_unwelcome_old_doc(window, n, reject) := _long_input(400, "week", 0, 0, {
	_window_metric[window]: n,
	"month_stranger_answers": _woken.min_answers,
	"month_stranger_reject_ratio": reject,
})

test_unwelcome_established_account[note] if {
	some window, tiers in _all_levels
	note := window
	n := tiers.established.warn
	_decide(_unwelcome_old_doc(window, n, _woken.reject_ratio)).action == "limit"
	_decide(_unwelcome_old_doc(window, n - 1, _woken.reject_ratio)).action == "allow"
	_decide(_unwelcome_old_doc(window, n, _woken.reject_ratio - 0.01)).action == "warn"
}
