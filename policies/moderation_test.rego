package moderation_test

import data.moderation

# Rule-independent parts of the decision, exercised with made-up violations
# so they hold whichever rules exist.

_violation(rule, action, restricts) := {
	"rule": rule,
	"action": action,
	"reason": {"code": rule, "detail": sprintf("%s detail", [rule])},
	"restricts": restricts,
	"title": sprintf("%s title", [rule]),
	"ground": sprintf("%s ground", [rule]),
	"explanation": sprintf("%s explanation", [rule]),
}

test_allow_when_nothing_is_violated if {
	moderation.decision == {
		"action": "allow",
		"reasons": [],
		"duration": "",
		"restricts": [],
		"rule": "",
		"title": "",
		"ground": "",
		"explanation": "",
		"automated_decision": "",
		"appealable": false,
	} with input as {}
}

test_most_severe_violation_decides_and_all_reasons_are_listed if {
	d := moderation.decision with moderation.violations as {
		_violation("a_rule", "warn", ["broadcast"]),
		_violation("b_rule", "suspend", ["friend_add"]),
		_violation("c_rule", "limit", ["broadcast"]),
	}
	d.action == "suspend"
	d.rule == "b_rule"
	d.title == "b_rule title"
	d.ground == "b_rule ground"
	d.explanation == "b_rule explanation"
	d.duration == data.config.durations.suspend
	d.restricts == []
	d.appealable == true
	d.automated_decision == "fully"
	[r.code | some r in d.reasons] == ["b_rule", "c_rule", "a_rule"]
}

test_ties_go_in_rule_order_and_limits_add_up if {
	d := moderation.decision with moderation.violations as {
		_violation("z_rule", "limit", ["broadcast"]),
		_violation("a_rule", "limit", ["friend_add"]),
		_violation("m_rule", "warn", ["other"]),
	}
	d.action == "limit"
	d.rule == "a_rule"
	d.restricts == ["broadcast", "friend_add"]
	[r.code | some r in d.reasons] == ["a_rule", "z_rule", "m_rule"]
}

test_close_is_permanent if {
	d := moderation.decision with moderation.violations as {_violation("x_rule", "close", [])}
	d.action == "close"
	d.duration == ""
	d.appealable == true
}

test_escalate[note] if {
	some note, c in {
		"allow stays without strikes": {"level": "warn", "strikes": 0, "want": "warn"},
		"warn to limit": {"level": "warn", "strikes": 1, "want": "limit"},
		"limit to suspend": {"level": "limit", "strikes": 2, "want": "suspend"},
		"suspend stays": {"level": "suspend", "strikes": 9, "want": "suspend"},
		"close stays": {"level": "close", "strikes": 9, "want": "close"},
	}
	moderation.escalate(c.level) == c.want with input as {"account": {"strikes": c.strikes}}
}

test_watch_merges_and_sorts_levels if {
	w := moderation.watch with moderation.watched as {
		{"metric": "a.x", "level": 30},
		{"metric": "a.x", "level": 10},
		{"metric": "b.y", "level": 0.5},
	}
	w == {"a.x": [10, 30], "b.y": [0.5]}
}

test_step_up[note] if {
	some note, c in {
		"warn to limit": {"level": "warn", "want": "limit"},
		"limit to suspend": {"level": "limit", "want": "suspend"},
		"suspend stays": {"level": "suspend", "want": "suspend"},
		"close stays": {"level": "close", "want": "close"},
	}
	moderation.step_up(c.level) == c.want
}

test_percent[note] if {
	some note, c in {
		"zero": {"x": 0, "want": "0%"},
		"fraction of a percent": {"x": 0.002, "want": "0.2%"},
		"rounded to two places": {"x": 0.012345, "want": "1.23%"},
		"whole": {"x": 1, "want": "100%"},
	}
	moderation.percent(c.x) == c.want
}

# A rule may ask for a duration of its own; the longest of the deciding
# action's wins, and the default fills in for rules that ask for none.
test_duration[note] if {
	some note, c in {
		"default for the action": {
			"violations": {_violation("a_rule", "limit", [])},
			"want": data.config.durations.limit,
		},
		"own duration": {
			"violations": {object.union(_violation("a_rule", "limit", []), {"duration": "168h"})},
			"want": "168h",
		},
		"longest of the deciding action": {
			"violations": {
				object.union(_violation("a_rule", "limit", []), {"duration": "72h"}),
				_violation("b_rule", "limit", []),
				object.union(_violation("c_rule", "limit", []), {"duration": "1h"}),
			},
			"want": "72h",
		},
		"a milder action's duration does not count": {
			"violations": {
				_violation("a_rule", "warn", []),
				object.union(_violation("b_rule", "limit", []), {"duration": "720h"}),
				_violation("c_rule", "suspend", []),
			},
			"want": data.config.durations.suspend,
		},
		"a warning has none": {
			"violations": {_violation("a_rule", "warn", [])},
			"want": "",
		},
	}
	d := moderation.decision with moderation.violations as c.violations
	d.duration == c.want
}

# Real rules together: an official account over its quota, posting ads its
# followers complain about, fraud among the complaints.
_official(strikes) := {
	"account": {"id": "acct_o", "type": "subscription", "verified": false, "age_days": 200, "strikes": strikes, "status": "allow"},
	"signals": {
		"broadcast_quota": {"day": 3, "month": 40, "evidence": "3 broadcasts today"},
		"ad_content": {"share": 0.9, "broadcasts": 20, "last_score": 0.9, "mean_score": 0.85, "evidence": "18 of the last 20 broadcasts read as ads"},
		"complaint_rate": {
			"complaints": 30, "delivered": 2500, "rate": 0.012, "wilson_lower": 0.0104,
			"reason_ads": 12, "reason_fraud": 6, "reason_spam": 12,
			"evidence": "30 complaints on 2,500 deliveries in 7 days",
		},
	},
}

test_several_rules_the_most_severe_decides if {
	d := moderation.decision with input as _official(0)
	d.action == "suspend"
	d.rule == "complaint_rate"
	d.duration == data.config.durations.suspend
	d.restricts == []
	[r.code | some r in d.reasons] == ["complaint_rate", "ad_content", "broadcast_quota"]
}

test_several_limits_add_up if {
	doc := json.patch(_official(0), [{"op": "remove", "path": "/signals/complaint_rate/reason_fraud"}])
	d := moderation.decision with input as doc
	d.action == "limit"
	d.rule == "ad_content"
	d.duration == "168h"
	d.restricts == ["broadcast"]
	[r.code | some r in d.reasons] == ["ad_content", "broadcast_quota", "complaint_rate"]
}

test_several_rules_with_strikes if {
	doc := json.patch(_official(1), [{"op": "remove", "path": "/signals/complaint_rate/reason_fraud"}])
	d := moderation.decision with input as doc
	d.action == "suspend"
	[r.code | some r in d.reasons] == ["ad_content", "broadcast_quota", "complaint_rate"]
}

test_friend_add_and_broadcast_limits_add_up if {
	doc := {
		"account": {"id": "acct_p", "type": "personal", "age_days": 400, "strikes": 0},
		"signals": {
			"bulk_add": {"hour_strangers": 20, "day_strangers": 520, "evidence": "520 requests to strangers today"},
			"complaint_rate": {"complaints": 15, "wilson_lower": 0.011, "evidence": "15 complaints"},
		},
	}
	d := moderation.decision with input as doc
	d.action == "limit"
	d.restricts == ["broadcast", "friend_add"]
	[r.code | some r in d.reasons] == ["bulk_add_day", "complaint_rate"]
}
