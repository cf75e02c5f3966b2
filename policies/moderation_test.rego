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

_close_after := data.config.close_after_strikes

# One strike is one step, short of close; close_after_strikes of them close
# what the step made a suspension, and only that.
test_escalate[note] if {
	some note, c in {
		"warn stays without strikes": {"level": "warn", "strikes": 0, "want": "warn"},
		"warn to limit": {"level": "warn", "strikes": 1, "want": "limit"},
		"warn is only limit however many strikes": {"level": "warn", "strikes": 99, "want": "limit"},
		"limit to suspend": {"level": "limit", "strikes": _close_after - 1, "want": "suspend"},
		"limit to close through suspend": {"level": "limit", "strikes": _close_after, "want": "close"},
		"suspend stays without strikes": {"level": "suspend", "strikes": 0, "want": "suspend"},
		"suspend stays one strike short": {"level": "suspend", "strikes": _close_after - 1, "want": "suspend"},
		"suspend to close": {"level": "suspend", "strikes": _close_after, "want": "close"},
		"suspend to close with more": {"level": "suspend", "strikes": _close_after + 5, "want": "close"},
		"close stays without strikes": {"level": "close", "strikes": 0, "want": "close"},
		"close stays": {"level": "close", "strikes": 9, "want": "close"},
		"malformed strikes count as none": {"level": "suspend", "strikes": "9", "want": "suspend"},
	}
	moderation.escalate(c.level) == c.want with input as {"account": {"strikes": c.strikes}}
}

test_escalation_note[note] if {
	some note, c in {
		"nothing changed": {"level": "suspend", "action": "suspend", "strikes": 5, "want": ""},
		"raised": {"level": "warn", "action": "limit", "strikes": 1, "want": "; raised to limit because of earlier strikes on this account (1)"},
		"closed": {"level": "suspend", "action": "close", "strikes": 3, "want": "; closed because this account was suspended or limited 3 times in the last 90 days"},
		"closed once": {"level": "limit", "action": "close", "strikes": 1, "want": "; closed because this account was suspended or limited once in the last 90 days"},
		"closed twice": {"level": "suspend", "action": "close", "strikes": 2, "want": "; closed because this account was suspended or limited twice in the last 90 days"},
	}
	moderation.escalation_note(c.level, c.action) == c.want with input as {"account": {"strikes": c.strikes}}
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
			"credible_complaints": 30, "credible_wilson_lower": 0.0104,
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

# Repeated abuse: every rule arrives at suspend with the strikes, and at
# close_after_strikes strikes each suspension becomes close, with no end
# date; the reasons say why.
test_several_rules_with_strikes_to_close[note] if {
	some note, c in {
		"one strike short": {"strikes": _close_after - 1, "want": "suspend", "duration": data.config.durations.suspend},
		"at close_after_strikes": {"strikes": _close_after, "want": "close", "duration": ""},
	}
	d := moderation.decision with input as _official(c.strikes)
	d.action == c.want
	d.duration == c.duration
	d.restricts == []
	d.appealable == true
	[r.code | some r in d.reasons] == ["ad_content", "broadcast_quota", "complaint_rate"]
}

test_closing_for_strikes_is_explained if {
	d := moderation.decision with input as _official(3)
	d.reasons[2] == {
		"code": "complaint_rate",
		"detail": "30 complaints on 2,500 deliveries in 7 days; limit for subscription accounts: a credible complaint rate of at least 1% with 10 or more credible complaints; raised to suspend because 6 of the complaints report fraud; closed because this account was suspended or limited 3 times in the last 90 days",
	}
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
			"complaint_rate": {"credible_complaints": 15, "credible_wilson_lower": 0.011, "evidence": "15 complaints"},
		},
	}
	d := moderation.decision with input as doc
	d.action == "limit"
	d.restricts == ["broadcast", "friend_add"]
	[r.code | some r in d.reasons] == ["bulk_add_day", "complaint_rate"]
}

test_data_close_after_strikes_comes_after_escalation if {
	data.config.close_after_strikes > data.config.strikes_to_escalate
	data.config.strike_expiry_days > 0
}

# The closing levels of the severe rules are in watch.
test_watch_has_the_closing_levels[metric] if {
	some metric, level in {
		"campaign.accounts": data.config.campaign.close.accounts,
		"campaign.ad_score": data.config.campaign.close.ad_score,
		"complaint_rate.reason_fraud": data.config.complaint_rate.close.reason_fraud,
		"complaint_rate.credible_wilson_lower": data.config.complaint_rate.close.wilson_lower,
	}
	level in moderation.watch[metric]
}
