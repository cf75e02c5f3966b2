package complaints_test

import data.moderation

# Levels are read from data.json so retuning keeps these tests meaningful;
# the tiny account uses literal numbers: it must never be actioned.

_cfg := data.config.complaint_rate

_levels := _cfg.levels

_close := _cfg.close

_close_after := data.config.close_after_strikes

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

# complaints of them fraud, at a lower bound of wilson_lower, every one
# from a credible reporter.
_input(type, wilson_lower, complaints, fraud, strikes) := {
	"account": {
		"id": "acct_k",
		"type": type,
		"verified": true,
		"age_days": 900,
		"strikes": strikes,
		"status": "allow",
	},
	"signals": {"complaint_rate": {
		"complaints": complaints,
		"delivered": 2000,
		"rate": wilson_lower * 2,
		"wilson_lower": wilson_lower,
		"credible_complaints": complaints,
		"credible_wilson_lower": wilson_lower,
		"brigade_complaints": 0,
		"brigade_reporters": 0,
		"reason_fraud": fraud,
		"reason_spam": complaints - fraud,
		"evidence": sprintf("%v complaints on 2,000 deliveries in 7 days", [complaints]),
	}},
	"event": {"id": "evt_1", "kind": "complaint", "at": "2026-01-01T12:00:00Z"},
}

_action(type, wilson_lower, complaints, fraud, strikes) := _decide(_input(type, wilson_lower, complaints, fraud, strikes)).action

_below(level) := moderation.ladder[moderation.severity[level] - 1]

test_data_levels_rise_with_severity[type] if {
	some type, levels in _levels
	levels.warn < levels.limit
	levels.limit < levels.suspend
}

test_fires_at_level[note] if {
	some type, levels in _levels
	some level, threshold in levels
	note := sprintf("%s %s at %v", [type, level, threshold])
	_action(type, threshold, _cfg.min_complaints, 0, 0) == level
}

test_does_not_fire_just_below_level[note] if {
	some type, levels in _levels
	some level, threshold in levels
	note := sprintf("%s %s below %v", [type, level, threshold])
	_action(type, threshold - 0.0001, 500, 0, 0) == _below(level)
}

test_does_not_fire_one_complaint_short[note] if {
	some type, levels in _levels
	note := type
	_action(type, levels.suspend * 10, _cfg.min_complaints - 1, 0, 0) == "allow"
}

# Service accounts are held to higher levels than subscription accounts.
test_levels_differ_by_type if {
	_action("subscription", _levels.subscription.warn, 20, 0, 0) == "warn"
	_action("service", _levels.subscription.warn, 20, 0, 0) == "allow"
}

# One complaint on 20 recipients: a 5% rate, a lower bound of 0.89%, above
# every warning level, but one complaint.
test_tiny_account_with_one_complaint_is_allowed[note] if {
	some type, _ in _levels
	note := type
	doc := {
		"account": {"id": "acct_tiny", "type": type, "age_days": 10, "strikes": 0},
		"signals": {"complaint_rate": {
			"complaints": 1,
			"delivered": 20,
			"rate": 0.05,
			"wilson_lower": 0.0089,
			"credible_complaints": 1,
			"credible_wilson_lower": 0.0089,
			"reason_fraud": 1,
			"evidence": "1 complaint on 20 deliveries in 7 days",
		}},
	}
	d := _decide(doc)
	d.action == "allow"
	d.reasons == []
}

test_fraud_complaints_raise_one_step[note] if {
	some note, c in {
		"warn with enough fraud is limit": {"level": "warn", "fraud": _cfg.min_fraud_complaints, "want": "limit"},
		"warn with one fraud too few stays": {"level": "warn", "fraud": _cfg.min_fraud_complaints - 1, "want": "warn"},
		"limit with fraud is suspend": {"level": "limit", "fraud": 50, "want": "suspend"},
		"suspend with fraud is not close": {"level": "suspend", "fraud": 50, "want": "suspend"},
	}
	_action("subscription", _levels.subscription[c.level], 50, c.fraud, 0) == c.want
}

test_fraud_alone_does_not_fire if {
	_action("subscription", _levels.subscription.warn - 0.0001, 50, 50, 0) == "allow"
}

test_strikes_escalate_one_step[note] if {
	some note, c in {
		"warn becomes limit": {"level": "warn", "fraud": 0, "strikes": 1, "want": "limit"},
		"fraud and strikes add up": {"level": "warn", "fraud": 5, "strikes": 1, "want": "suspend"},
		"suspend stays one strike short of closing": {"level": "suspend", "fraud": 5, "strikes": _close_after - 1, "want": "suspend"},
		"suspend closes at close_after_strikes": {"level": "suspend", "fraud": 0, "strikes": _close_after, "want": "close"},
		"fraud, strikes and closing add up": {"level": "warn", "fraud": 5, "strikes": _close_after, "want": "close"},
		"warn is only limit however many strikes": {"level": "warn", "fraud": 0, "strikes": 9, "want": "limit"},
	}
	_action("service", _levels.service[c.level], 12, c.fraud, c.strikes) == c.want
}

test_limit_takes_broadcasting if {
	d := _decide(_input("subscription", 0.012, 25, 0, 0))
	d.action == "limit"
	d.rule == "complaint_rate"
	d.restricts == ["broadcast"]
	d.duration == "24h"
	d.appealable == true
	d.reasons == [{
		"code": "complaint_rate",
		"detail": "25 complaints on 2,000 deliveries in 7 days; limit for subscription accounts: a credible complaint rate of at least 1% with 10 or more credible complaints",
	}]
}

test_fraud_and_strikes_are_explained if {
	_decide(_input("subscription", 0.006, 14, 6, 1)).reasons == [{
		"code": "complaint_rate",
		"detail": "14 complaints on 2,000 deliveries in 7 days; warning level for subscription accounts: a credible complaint rate of at least 0.5% with 10 or more credible complaints; raised to limit because 6 of the complaints report fraud; raised to suspend because of earlier strikes on this account (1)",
	}]
}

test_evidence_missing_is_described if {
	doc := json.remove(_input("enterprise", 0.04123, 80, 0, 0), ["signals/complaint_rate/evidence"])
	_decide(doc).reasons == [{
		"code": "complaint_rate",
		"detail": "80 credible complaints in 7 days, credible complaint rate at least 4.12%; suspension level for enterprise accounts: a credible complaint rate of at least 4% with 10 or more credible complaints",
	}]
}

test_missing_signals_allow[note] if {
	some note, signals in {
		"no signals": {},
		"no count": {"complaint_rate": {"credible_wilson_lower": 0.5}},
		"no rate": {"complaint_rate": {"credible_complaints": 500}},
		"rate not a number": {"complaint_rate": {"credible_complaints": 500, "credible_wilson_lower": "0.5"}},
		"raw counts only": {"complaint_rate": {"complaints": 500, "wilson_lower": 0.5}},
	}
	_decide({"account": {"type": "subscription"}, "signals": signals}).action == "allow"
}

test_unknown_type_is_not_actioned if {
	_action("other", 0.9, 1000, 0, 0) == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input("subscription", 0.005, 10, 0, 0))
	d.title == "Many complaints about broadcasts"
	d.ground == "Platform rules 5.1: broadcasts recipients report as abusive"
	startswith(d.explanation, "Over the last 7 days an unusually large share")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_every_level[note] if {
	some pair in array.concat(
		[["complaint_rate.credible_complaints", _cfg.min_complaints], ["complaint_rate.reason_fraud", _cfg.min_fraud_complaints]],
		[["complaint_rate.credible_wilson_lower", l] | some levels in _levels; some l in levels],
	)
	note := sprintf("%s %v", pair)
	pair[1] in moderation.watch[pair[0]]
}

# A fraud storm closes on the first occurrence, for every account type with
# levels, and takes both: enough complaints of fraud and a high rate.
test_close_thresholds_are_above_every_suspend_level[type] if {
	some type, levels in _levels
	_close.wilson_lower > levels.suspend
	_close.reason_fraud > _cfg.min_fraud_complaints
}

test_fraud_storm_closes_at_level[type] if {
	some type, _ in _levels
	d := _decide(_input(type, _close.wilson_lower, _close.reason_fraud, _close.reason_fraud, 0))
	d.action == "close"
	d.rule == "complaint_fraud"
	d.duration == ""
	d.restricts == []
	d.appealable == true
	[r.code | some r in d.reasons] == ["complaint_fraud", "complaint_rate"]
}

# Just below either level the storm is not a closure: the rate and the fraud
# complaints still suspend through complaint_rate and its fraud step.
test_fraud_storm_does_not_close_just_below[note] if {
	some type, _ in _levels
	some what, c in {
		"fraud": {"wilson_lower": _close.wilson_lower, "fraud": _close.reason_fraud - 1},
		"rate": {"wilson_lower": _close.wilson_lower - 0.0001, "fraud": _close.reason_fraud},
	}
	note := sprintf("%s %s", [type, what])
	d := _decide(_input(type, c.wilson_lower, 500, c.fraud, 0))
	d.action == "suspend"
	d.rule == "complaint_rate"
}

# Strikes are not needed for a storm, and a storm on an account with strikes
# closes just the same.
test_fraud_storm_closes_whatever_the_strikes[note] if {
	some strikes in [0, 1, _close_after - 1, _close_after]
	note := sprintf("%v strikes", [strikes])
	_action("subscription", 0.08, 120, 80, strikes) == "close"
}

# A huge account with many fraud complaints at a tiny rate, and a small
# account whose complaints are not about fraud, are not closed.
test_look_alikes_of_a_fraud_storm_are_not_closed[note] if {
	some note, c in {
		"60 fraud complaints on a million deliveries": {"wilson_lower": 0.00005, "complaints": 70, "fraud": 60, "want": "allow"},
		"high rate, 10 fraud complaints": {"wilson_lower": 0.2, "complaints": 200, "fraud": 10, "want": "suspend"},
	}
	_action("subscription", c.wilson_lower, c.complaints, c.fraud, 0) == c.want
}

test_fraud_storm_needs_a_known_type if {
	_action("other", 0.5, 1000, 1000, 0) == "allow"
}

test_fraud_storm_is_explained if {
	d := _decide(_input("service", 0.0612, 90, 55, 0))
	d.reasons[0] == {
		"code": "complaint_fraud",
		"detail": "90 complaints on 2,000 deliveries in 7 days; closing level for every account type: 50 or more complaints of fraud at a credible complaint rate of at least 5%",
	}
	doc := json.remove(_input("service", 0.0612, 90, 55, 0), ["signals/complaint_rate/evidence"])
	_decide(doc).reasons[0].detail == "55 complaints of fraud in 7 days, credible complaint rate at least 6.12%; closing level for every account type: 50 or more complaints of fraud at a credible complaint rate of at least 5%"
}

test_fraud_storm_metadata_flows_into_decision if {
	d := _decide(_input("subscription", 0.05, 50, 50, 0))
	d.title == "Fraud reported by many recipients"
	d.ground == "Platform rules 5.2: fraud and scams"
	startswith(d.explanation, "Over the last 7 days a large number of the people")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_the_closing_levels[note] if {
	some pair in [
		["complaint_rate.reason_fraud", _close.reason_fraud],
		["complaint_rate.credible_wilson_lower", _close.wilson_lower],
		["complaint_rate.credible_complaints", _close.reason_fraud],
	]
	note := sprintf("%s %v", pair)
	pair[1] in moderation.watch[pair[0]]
}

# ---- brigades: complaints from reporters acting together do not count ----

# A small news account: 2,000 deliveries, 40 complaints, 36 of them from a
# brigade that complained about several other accounts in the same hour.
# The raw rate is far over every level; the credible one is not.
_brigaded(credible, credible_lower, fraud) := json.patch(_input("subscription", 0.014, 40, fraud, 0), [
	{"op": "replace", "path": "/signals/complaint_rate/credible_complaints", "value": credible},
	{"op": "replace", "path": "/signals/complaint_rate/credible_wilson_lower", "value": credible_lower},
	{"op": "replace", "path": "/signals/complaint_rate/brigade_complaints", "value": 40 - credible},
	{"op": "replace", "path": "/signals/complaint_rate/brigade_reporters", "value": 40 - credible},
])

test_brigade_alone_never_limits[note] if {
	some note, c in {
		"no credible complaint": {"credible": 0, "lower": 0},
		"a few credible complaints": {"credible": 4, "lower": 0.0007},
		"credible rate high, too few credible complaints": {"credible": _cfg.min_complaints - 1, "lower": 0.9},
	}
	d := _decide(_brigaded(c.credible, c.lower, 0))
	d.action == "allow"
}

# Fraud reported by a brigade neither closes nor raises: a storm of 60 fraud
# complaints with a raw rate of 6% and only 5 credible complaints is allowed.
test_brigade_reporting_fraud_does_not_close if {
	doc := json.patch(_input("subscription", 0.06, 200, 60, 0), [
		{"op": "replace", "path": "/signals/complaint_rate/credible_complaints", "value": 5},
		{"op": "replace", "path": "/signals/complaint_rate/credible_wilson_lower", "value": 0.001},
		{"op": "replace", "path": "/signals/complaint_rate/brigade_complaints", "value": 195},
	])
	_decide(doc).action == "allow"
}

test_fraud_storm_needs_credible_complaints[note] if {
	some note, c in {
		"credible complaints one short": {"credible": _close.reason_fraud - 1, "lower": _close.wilson_lower, "want": "suspend"},
		"credible rate just under": {"credible": 200, "lower": _close.wilson_lower - 0.0001, "want": "suspend"},
		"both at the closing level": {"credible": _close.reason_fraud, "lower": _close.wilson_lower, "want": "close"},
	}
	doc := json.patch(_input("subscription", 0.2, 200, 80, 0), [
		{"op": "replace", "path": "/signals/complaint_rate/credible_complaints", "value": c.credible},
		{"op": "replace", "path": "/signals/complaint_rate/credible_wilson_lower", "value": c.lower},
	])
	_decide(doc).action == c.want
}

# Credible complaints on their own still count when a brigade piles on, and
# the owner is told what was left out.
test_credible_complaints_beside_a_brigade_are_judged if {
	d := _decide(_brigaded(30, 0.0101, 0))
	d.action == "limit"
	d.reasons == [{
		"code": "complaint_rate",
		"detail": "40 complaints on 2,000 deliveries in 7 days; limit for subscription accounts: a credible complaint rate of at least 1% with 10 or more credible complaints",
	}]
	doc := json.remove(_brigaded(30, 0.0101, 0), ["signals/complaint_rate/evidence"])
	_decide(doc).reasons == [{
		"code": "complaint_rate",
		"detail": "30 credible complaints in 7 days, credible complaint rate at least 1.01%; 10 complaints from 10 reporters acting as a brigade were not counted; limit for subscription accounts: a credible complaint rate of at least 1% with 10 or more credible complaints",
	}]
}
