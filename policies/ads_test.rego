package ads_test

import data.moderation

# Levels are read from data.json so retuning keeps these tests meaningful;
# the look-alike scenarios use literal numbers because they are accounts the
# numbers must leave alone.

_levels := data.config.ad_content.levels

# The action of the ad_content rule alone, "allow" when it does not fire:
# other rules read the same complaints.
_action(doc) := a if {
	vs := moderation.violations with input as doc
	actions := [v.action | some v in vs; v.rule == "ad_content"]
	a := _first_or_allow(actions)
}

_first_or_allow(actions) := actions[0] if count(actions) > 0

else := "allow"

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

# An account of type whose last broadcasts are share ads over broadcasts,
# with complaints reason_ads of them about advertising, at a lower bound.
_input(type, c, strikes) := {
	"account": {
		"id": "acct_ad",
		"type": type,
		"verified": false,
		"age_days": 400,
		"strikes": strikes,
		"status": "allow",
	},
	"signals": {
		"ad_content": {
			"share": c.share,
			"broadcasts": c.broadcasts,
			"last_score": 0.9,
			"mean_score": 0.8,
			"evidence": sprintf("%v of the last %v broadcasts read as ads", [c.share, c.broadcasts]),
		},
		"complaint_rate": {
			"complaints": object.get(c, "complaints", c.reason_ads),
			"delivered": object.get(c, "delivered", 1000),
			"wilson_lower": c.wilson_lower,
			"reason_ads": c.reason_ads,
			"evidence": sprintf("%v complaints, %v about ads", [object.get(c, "complaints", c.reason_ads), c.reason_ads]),
		},
	},
	"event": {"id": "evt_1", "kind": "broadcast", "at": "2026-01-01T12:00:00Z"},
}

# Exactly at every level of type for level.
_at(type, level) := {
	"share": _levels[type].share,
	"broadcasts": _levels[type].min_broadcasts,
	"wilson_lower": _levels[type][level].wilson_lower,
	"reason_ads": _levels[type][level].reason_ads,
}

# Each condition just under its level, the others at theirs, and what the
# account then gets from a level: an account that is not ad-heavy gets
# nothing, one whose complaints are just under a level gets the level below.
_just_below := {
	"share": {"step": 0.01, "limit": "allow", "suspend": "allow"},
	"broadcasts": {"step": 1, "limit": "allow", "suspend": "allow"},
	"wilson_lower": {"step": 0.0001, "limit": "allow", "suspend": "limit"},
	"reason_ads": {"step": 1, "limit": "allow", "suspend": "limit"},
}

test_data_levels_rise_with_severity[type] if {
	some type, levels in _levels
	levels.limit.wilson_lower < levels.suspend.wilson_lower
	levels.limit.reason_ads < levels.suspend.reason_ads
}

test_fires_at_level[note] if {
	some type, _ in _levels
	some level in ["limit", "suspend"]
	note := sprintf("%s %s", [type, level])
	_action(_input(type, _at(type, level), 0)) == level
}

test_does_not_fire_just_below_level[note] if {
	some type, _ in _levels
	some level in ["limit", "suspend"]
	some field, below in _just_below
	note := sprintf("%s %s, %s just below", [type, level, field])
	c := object.union(_at(type, level), {field: _at(type, level)[field] - below.step})
	_action(_input(type, c, 0)) == below[level]
}

# Service accounts are held to a higher complaint level than subscription
# accounts: the same complaints limit one and not the other.
test_levels_differ_by_type if {
	c := _at("subscription", "limit")
	_action(_input("subscription", c, 0)) == "limit"
	_action(_input("service", c, 0)) == "allow"
}

test_limit_takes_broadcasting_for_a_week if {
	d := _decide(_input("subscription", _at("subscription", "limit"), 0))
	d.action == "limit"
	d.rule == "ad_content"
	d.restricts == ["broadcast"]
	d.duration == "168h"
	d.appealable == true
	d.reasons == [{
		"code": "ad_content",
		"detail": "0.8 of the last 5 broadcasts read as ads; 5 complaints, 5 about ads; limit for subscription accounts: ads in 80% or more of at least 5 broadcasts, with a complaint rate of at least 0.2% and 5 or more complaints about advertising",
	}]
}

test_strikes_escalate_one_step[note] if {
	some note, c in {
		"limit becomes suspend": {"level": "limit", "strikes": 1, "want": "suspend"},
		"suspend stays one strike short of closing": {"level": "suspend", "strikes": data.config.close_after_strikes - 1, "want": "suspend"},
	}
	d := _decide(_input("subscription", _at("subscription", c.level), c.strikes))
	d.action == c.want
	d.duration == data.config.durations.suspend
}

test_repeated_abuse_closes[note] if {
	some note, c in {
		"suspend": {"level": "suspend", "strikes": data.config.close_after_strikes},
		"limit through suspend": {"level": "limit", "strikes": data.config.close_after_strikes + 2},
	}
	d := _decide(_input("subscription", _at("subscription", c.level), c.strikes))
	d.action == "close"
	d.duration == ""
	d.appealable == true
}

test_evidence_missing_is_described if {
	doc := json.remove(_input("enterprise", {"share": 0.95, "broadcasts": 20, "wilson_lower": 0.0234, "reason_ads": 31, "complaints": 40}, 0), [
		"signals/ad_content/evidence",
		"signals/complaint_rate/evidence",
	])
	vs := moderation.violations with input as doc
	[v.reason | some v in vs; v.rule == "ad_content"] == [{
		"code": "ad_content",
		"detail": "95% of the last 20 broadcasts read as advertising; 31 complaints about advertising, complaint rate at least 2.34%; suspension level for enterprise accounts: ads in 80% or more of at least 5 broadcasts, with a complaint rate of at least 1.5% and 20 or more complaints about advertising",
	}]
}

# A brand whose followers want its offers: every broadcast an ad, a large
# audience, a few complaints (even some dozens about ads) far below the rate.
test_brand_with_happy_followers_is_allowed[note] if {
	some note, c in {
		"no complaints": {"share": 1, "broadcasts": 20, "delivered": 400000, "complaints": 0, "reason_ads": 0, "wilson_lower": 0},
		"a few complaints": {"share": 1, "broadcasts": 20, "delivered": 400000, "complaints": 12, "reason_ads": 8, "wilson_lower": 0.000017},
		"dozens about ads on a million": {"share": 1, "broadcasts": 20, "delivered": 1000000, "complaints": 40, "reason_ads": 30, "wilson_lower": 0.000029},
	}
	d := _decide(_input("subscription", c, 0))
	d.action == "allow"
}

# A news account: links in every post, a huge audience, hundreds of
# complaints in absolute terms, a tiny rate; few of its posts read as ads.
test_news_account_with_links_and_huge_audience_is_allowed[note] if {
	some note, share in {"few ads": 0.2, "even if most read as ads": 0.85}
	c := {"share": share, "broadcasts": 20, "delivered": 5000000, "complaints": 400, "reason_ads": 120, "wilson_lower": 0.000072}
	_decide(_input("subscription", c, 0)).action == "allow"
}

# One complaint on 20 recipients is a 5% rate and a lower bound well above
# the level, but one complaint is not a pattern.
test_tiny_account_with_one_complaint_is_allowed if {
	c := {"share": 1, "broadcasts": 6, "delivered": 20, "complaints": 1, "reason_ads": 1, "wilson_lower": 0.0089}
	_decide(_input("subscription", c, 0)).action == "allow"
}

test_missing_signals_allow[note] if {
	some note, signals in {
		"no signals": {},
		"ads without complaints": {"ad_content": {"share": 1, "broadcasts": 20}},
		"complaints without ads": {"complaint_rate": {"wilson_lower": 0.5, "reason_ads": 100, "complaints": 5}},
		"share not a number": {"ad_content": {"share": "1", "broadcasts": 20}, "complaint_rate": {"wilson_lower": 0.5, "reason_ads": 100}},
	}
	doc := {"account": {"type": "subscription"}, "signals": signals}
	_action(doc) == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input("subscription", _at("subscription", "limit"), 0))
	d.title == "Advertising that followers complain about"
	d.ground == "Platform rules 5.3: unwanted advertising in broadcasts"
	startswith(d.explanation, "Almost all of this account's recent broadcasts are advertising")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_every_level[note] if {
	some type, levels in _levels
	some pair in [
		["ad_content.share", levels.share],
		["ad_content.broadcasts", levels.min_broadcasts],
		["complaint_rate.wilson_lower", levels.limit.wilson_lower],
		["complaint_rate.reason_ads", levels.limit.reason_ads],
		["complaint_rate.wilson_lower", levels.suspend.wilson_lower],
		["complaint_rate.reason_ads", levels.suspend.reason_ads],
	]
	note := sprintf("%s %s %v", [type, pair[0], pair[1]])
	pair[1] in moderation.watch[pair[0]]
}
