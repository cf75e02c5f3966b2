package quota_test

import data.moderation

# Levels are read from data.json so retuning keeps these tests meaningful;
# the scenarios below use literal counts because they are the platform's
# published quotas, which the data must meet.

_quotas := data.config.broadcast_quota.quotas

# Every account that has a quota, by its type and verification.
_accounts := {
	"subscription": {"type": "subscription", "verified": false},
	"verified subscription": {"type": "subscription", "verified": true},
	"service": {"type": "service", "verified": false},
	"verified service": {"type": "service", "verified": true},
}

_tier(verified) := "verified" if verified

else := "unverified"

_quota_of(account) := _quotas[account.type][_tier(account.verified)]

# An account that sent day broadcasts today and month this month.
_input(type, verified, day, month, strikes) := {
	"account": {
		"id": "acct_q",
		"type": type,
		"verified": verified,
		"age_days": 400,
		"strikes": strikes,
		"status": "allow",
	},
	"signals": {"broadcast_quota": {
		"day": day,
		"month": month,
		"evidence": sprintf("%v broadcasts today and %v this month", [day, month]),
	}},
	"event": {"id": "evt_1", "kind": "broadcast", "at": "2026-01-01T12:00:00Z"},
}

# The account's quota period holds n broadcasts, the other period as many
# (a month holds its day).
_count_input(account, n, strikes) := _input(account.type, account.verified, n, n, strikes)

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

_below(level) := moderation.ladder[moderation.severity[level] - 1]

test_data_warns_on_the_first_broadcast_over_the_quota[note] if {
	some note, account in _accounts
	q := _quota_of(account)
	q.levels.warn == q.quota + 1
	q.levels.limit > q.levels.warn
}

# The platform's published quotas.
test_data_quotas[note] if {
	some note, want in {
		"subscription": {"period": "day", "quota": 1},
		"verified subscription": {"period": "day", "quota": 2},
		"service": {"period": "month", "quota": 4},
		"verified service": {"period": "month", "quota": 4},
	}
	q := _quota_of(_accounts[note])
	q.period == want.period
	q.quota == want.quota
}

test_fires_at_level[note] if {
	some name, account in _accounts
	some level, threshold in _quota_of(account).levels
	note := sprintf("%s %s at %v", [name, level, threshold])
	d := _decide(_count_input(account, threshold, 0))
	d.action == level
	d.rule == "broadcast_quota"
}

test_does_not_fire_just_below_level[note] if {
	some name, account in _accounts
	some level, threshold in _quota_of(account).levels
	note := sprintf("%s %s below %v", [name, level, threshold])
	_decide(_count_input(account, threshold - 1, 0)).action == _below(level)
}

test_verified_brand_using_both_daily_broadcasts_is_allowed if {
	d := _decide(_input("subscription", true, 2, 40, 0))
	d.action == "allow"
	d.reasons == []
}

test_unverified_subscription_second_broadcast_warns if {
	d := _decide(_input("subscription", false, 2, 2, 0))
	d.action == "warn"
	d.restricts == []
	d.duration == ""
	d.appealable == false
	d.reasons == [{
		"code": "broadcast_quota",
		"detail": "2 broadcasts today and 2 this month; unverified subscription accounts may send 1 per calendar day, warning from 2",
	}]
}

# Four broadcasts on one day of the month is still four a month.
test_service_account_within_4_a_month_is_allowed[note] if {
	some note, c in {
		"spread over the month": {"day": 1, "month": 4},
		"all on one day": {"day": 4, "month": 4},
	}
	_decide(_input("service", false, c.day, c.month, 0)).action == "allow"
}

test_service_account_quota_is_monthly[note] if {
	some note, c in {
		"fifth in the month warns": {"day": 1, "month": 5, "want": "warn"},
		"seventh in the month limits": {"day": 1, "month": 7, "want": "limit"},
	}
	_decide(_input("service", false, c.day, c.month, 0)).action == c.want
}

test_accounts_without_quota_are_never_actioned[note] if {
	some note, type in {"personal": "personal", "enterprise": "enterprise", "unknown": "other"}
	_decide(_input(type, false, 50, 500, 3)).action == "allow"
}

# Anything but verified: true gets the smaller quota.
test_unknown_verification_counts_as_unverified[note] if {
	some note, verified in {"missing": null, "a string": "yes"}
	doc := json.patch(_input("subscription", true, 2, 2, 0), [{"op": "replace", "path": "/account/verified", "value": verified}])
	_decide(doc).action == "warn"
}

test_limit_takes_broadcasting_for_a_day if {
	d := _decide(_input("subscription", true, 5, 30, 0))
	d.action == "limit"
	d.restricts == ["broadcast"]
	d.duration == "24h"
	d.appealable == true
	d.reasons == [{
		"code": "broadcast_quota",
		"detail": "5 broadcasts today and 30 this month; verified subscription accounts may send 2 per calendar day, broadcasting limited from 5",
	}]
}

test_strikes_escalate_one_step[note] if {
	some note, c in {
		"warn becomes limit": {"n": 5, "strikes": 1, "want": "limit"},
		"limit becomes suspend": {"n": 7, "strikes": 1, "want": "suspend"},
		"limit stays suspend one strike short of closing": {"n": 7, "strikes": data.config.close_after_strikes - 1, "want": "suspend"},
		"limit closes through suspend": {"n": 7, "strikes": data.config.close_after_strikes, "want": "close"},
		"warn is only limit however many strikes": {"n": 5, "strikes": 9, "want": "limit"},
	}
	_decide(_input("service", false, 1, c.n, c.strikes)).action == c.want
}

test_strike_escalation_is_explained if {
	_decide(_input("subscription", false, 2, 9, 2)).reasons == [{
		"code": "broadcast_quota",
		"detail": "2 broadcasts today and 9 this month; unverified subscription accounts may send 1 per calendar day, warning from 2; raised to limit because of earlier strikes on this account (2)",
	}]
}

test_evidence_missing_is_described if {
	doc := json.remove(_input("service", true, 1, 6, 0), ["signals/broadcast_quota/evidence"])
	_decide(doc).reasons == [{
		"code": "broadcast_quota",
		"detail": "6 broadcasts this calendar month; verified service accounts may send 4 per calendar month, warning from 5",
	}]
}

test_missing_signals_allow[note] if {
	some note, signals in {
		"no signals": {},
		"no quota signal": {"ad_content": {"share": 1}},
		"count not a number": {"broadcast_quota": {"day": "9", "month": "9"}},
		"other period only": {"broadcast_quota": {"month": 30}},
	}
	doc := {"account": {"type": "subscription", "verified": false}, "signals": signals}
	_decide(doc).action == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input("subscription", false, 2, 2, 0))
	d.title == "Broadcasts over the account's quota"
	d.ground == "Platform rules 3.1: broadcast frequency of official accounts"
	startswith(d.explanation, "Each type of official account may send")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

# Each period's metric watches the levels of every quota counted in it.
test_watch_is_exactly_the_levels_per_period if {
	quotas := [q | some tiers in _quotas; some q in tiers]
	want := {concat(".", ["broadcast_quota", period]): sort({l | some q in quotas; q.period == period; some l in q.levels}) |
		some q0 in quotas
		period := q0.period
	}
	got := {metric: levels |
		some metric, levels in moderation.watch
		startswith(metric, "broadcast_quota.")
	}
	got == want
	got == {"broadcast_quota.day": [2, 3, 5], "broadcast_quota.month": [5, 7]}
}
