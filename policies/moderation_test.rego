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
