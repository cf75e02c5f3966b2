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
# with complaints reason_ads of them about advertising, at a lower bound;
# unless c says otherwise every complaint is credible and nobody unfollows.
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
			"credible_complaints": object.get(c, "credible_complaints", object.get(c, "complaints", c.reason_ads)),
			"credible_wilson_lower": object.get(c, "credible_wilson_lower", c.wilson_lower),
			"reason_ads": c.reason_ads,
			"unfollows": object.get(c, "unfollows", 0),
			"unfollow_wilson_lower": object.get(c, "unfollow_wilson_lower", 0),
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
	"credible_complaints": _levels[type][level].reason_ads,
}

# Each condition just under its level, the others at theirs, and what the
# account then gets from a level: an account that is not ad-heavy gets
# nothing, one whose complaints are just under a level gets the level below.
_just_below := {
	"share": {"step": 0.01, "limit": "allow", "suspend": "allow"},
	"broadcasts": {"step": 1, "limit": "allow", "suspend": "allow"},
	"wilson_lower": {"step": 0.0001, "limit": "allow", "suspend": "limit"},
	"reason_ads": {"step": 1, "limit": "allow", "suspend": "limit"},
	"credible_complaints": {"step": 1, "limit": "allow", "suspend": "limit"},
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
		"detail": "0.4 of the last 5 broadcasts read as ads; 5 complaints, 5 about ads; limit for subscription accounts: ads in 40% or more of at least 5 broadcasts, with a credible complaint rate of at least 0.1% and 5 or more complaints about advertising, as many of them credible",
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
		"detail": "95% of the last 20 broadcasts read as advertising; 31 complaints about advertising, credible complaint rate at least 2.34%; suspension level for enterprise accounts: ads in 40% or more of at least 5 broadcasts, with a credible complaint rate of at least 1.5% and 20 or more complaints about advertising, as many of them credible",
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
		"complaints without ads": {"complaint_rate": {"credible_wilson_lower": 0.5, "reason_ads": 100, "credible_complaints": 100}},
		"share not a number": {"ad_content": {"share": "1", "broadcasts": 20}, "complaint_rate": {"credible_wilson_lower": 0.5, "reason_ads": 100, "credible_complaints": 100}},
		"raw complaints only": {"ad_content": {"share": 1, "broadcasts": 20}, "complaint_rate": {"wilson_lower": 0.5, "reason_ads": 100, "complaints": 100}},
	}
	doc := {"account": {"type": "subscription"}, "signals": signals}
	_action(doc) == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input("subscription", _at("subscription", "limit"), 0))
	d.title == "Advertising that followers complain about"
	d.ground == "Platform rules 5.3: unwanted advertising in broadcasts"
	startswith(d.explanation, "Many of this account's recent broadcasts are advertising")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_every_level[note] if {
	some type, levels in _levels
	some pair in [
		["ad_content.share", levels.share],
		["ad_content.broadcasts", levels.min_broadcasts],
		["complaint_rate.credible_wilson_lower", levels.limit.wilson_lower],
		["complaint_rate.reason_ads", levels.limit.reason_ads],
		["complaint_rate.credible_complaints", levels.limit.reason_ads],
		["complaint_rate.credible_wilson_lower", levels.suspend.wilson_lower],
		["complaint_rate.reason_ads", levels.suspend.reason_ads],
		["complaint_rate.credible_complaints", levels.suspend.reason_ads],
		["complaint_rate.unfollows", levels.unfollows.min_unfollows],
		["complaint_rate.unfollow_wilson_lower", levels.unfollows.limit],
		["complaint_rate.unfollow_wilson_lower", levels.unfollows.suspend],
	]
	note := sprintf("%s %s %v", [type, pair[0], pair[1]])
	pair[1] in moderation.watch[pair[0]]
}

# A brigade that reports a brand's ads: many complaints about advertising,
# a raw rate far over the levels, but few credible complaints.
test_brigade_against_an_ad_heavy_brand_does_not_limit[note] if {
	some note, c in {
		"no credible complaint": {"credible_complaints": 0, "credible_wilson_lower": 0},
		"credible rate high, too few credible complaints": {"credible_complaints": 4, "credible_wilson_lower": 0.02},
		"enough credible complaints, rate low": {"credible_complaints": 30, "credible_wilson_lower": 0.0005},
	}
	doc := _input(
		"subscription", object.union(
			{"share": 1, "broadcasts": 20, "delivered": 20000, "complaints": 300, "reason_ads": 300, "wilson_lower": 0.013},
			c,
		),
		0,
	)
	_decide(doc).action == "allow"
}

# ---- ad_unfollows: followers leave after the ads ----

_unfollow_action(doc) := a if {
	vs := moderation.violations with input as doc
	a := _first_or_allow([v.action | some v in vs; v.rule == "ad_unfollows"])
}

# An ad-heavy account at type's levels with no complaints at all, its
# followers leaving at unfollow_lower.
_quiet(type, unfollows, unfollow_lower) := {
	"share": _levels[type].share,
	"broadcasts": _levels[type].min_broadcasts,
	"delivered": 18000,
	"complaints": 0,
	"reason_ads": 0,
	"wilson_lower": 0,
	"unfollows": unfollows,
	"unfollow_wilson_lower": unfollow_lower,
}

test_data_unfollow_levels_rise_with_severity[type] if {
	some type, levels in _levels
	levels.unfollows.limit < levels.unfollows.suspend
}

test_unfollows_fire_at_level[note] if {
	some type, levels in _levels
	some level in ["limit", "suspend"]
	note := sprintf("%s %s", [type, level])
	doc := _input(type, _quiet(type, levels.unfollows.min_unfollows, levels.unfollows[level]), 0)
	_unfollow_action(doc) == level
	_decide(doc).action == level
}

test_unfollows_do_not_fire_just_below_level[note] if {
	some type, levels in _levels
	some level in ["limit", "suspend"]
	some what, c in {
		"rate": {"unfollows": 500, "lower": levels.unfollows[level] - 0.0001, "want": {"limit": "allow", "suspend": "limit"}},
		"count": {"unfollows": levels.unfollows.min_unfollows - 1, "lower": levels.unfollows[level], "want": {"limit": "allow", "suspend": "allow"}},
	}
	note := sprintf("%s %s, %s just below", [type, level, what])
	_unfollow_action(_input(type, _quiet(type, c.unfollows, c.lower), 0)) == c.want[level]
}

# Followers leaving a brand or a news account that is not ad-heavy are not
# held against it, however many leave.
test_unfollows_need_ad_heavy_broadcasts[note] if {
	some type, levels in _levels
	some what, c in {
		"share": {"share": levels.share - 0.01},
		"broadcasts": {"broadcasts": levels.min_broadcasts - 1},
	}
	note := sprintf("%s %s just below", [type, what])
	doc := _input(type, object.union(_quiet(type, 900, 0.2), c), 0)
	_decide(doc).action == "allow"
}

# A verified brand sending coupon codes twice a day to 500,000 followers
# who stay: a few hundred unfollows in a week is ordinary churn.
test_brand_whose_followers_stay_is_allowed[note] if {
	some note, c in {
		"ordinary churn": {"unfollows": 350, "unfollow_wilson_lower": 0.00004},
		"a bad week": {"unfollows": 3000, "unfollow_wilson_lower": 0.0004},
	}
	doc := _input(
		"subscription", object.union(
			{"share": 1, "broadcasts": 14, "delivered": 7000000, "complaints": 6, "reason_ads": 4, "wilson_lower": 0.0000004},
			c,
		),
		0,
	)
	_decide(doc).action == "allow"
}

# Six ads to 3,000 followers each, no complaints, 160 followers gone.
test_ad_account_whose_followers_leave_is_limited if {
	d := _decide(_input(
		"subscription", {
			"share": 1, "broadcasts": 6, "delivered": 18000,
			"complaints": 0, "reason_ads": 0, "wilson_lower": 0,
			"unfollows": 160, "unfollow_wilson_lower": 0.0076,
		},
		0,
	))
	d.action == "limit"
	d.rule == "ad_unfollows"
	d.restricts == ["broadcast"]
	d.duration == "168h"
	d.title == "Advertising that drives followers away"
	d.ground == "Platform rules 5.3: unwanted advertising in broadcasts"
	startswith(d.explanation, "Many of this account's recent broadcasts are advertising, and an")
	d.reasons == [{
		"code": "ad_unfollows",
		"detail": "1 of the last 6 broadcasts read as ads; 0 complaints, 0 about ads; limit for subscription accounts: ads in 40% or more of at least 5 broadcasts, with an unfollow rate of at least 0.4% of delivered broadcasts and 20 or more unfollows",
	}]
}

test_unfollows_and_strikes[note] if {
	some note, c in {
		"limit becomes suspend": {"level": "limit", "strikes": 1, "want": "suspend"},
		"suspend closes": {"level": "suspend", "strikes": data.config.close_after_strikes, "want": "close"},
	}
	levels := _levels.subscription.unfollows
	d := _decide(_input("subscription", _quiet("subscription", 100, levels[c.level]), c.strikes))
	d.action == c.want
}

test_unfollow_evidence_missing_is_described if {
	doc := json.remove(_input("service", _quiet("service", 45, 0.0312), 0), [
		"signals/ad_content/evidence",
		"signals/complaint_rate/evidence",
	])
	vs := moderation.violations with input as doc
	[v.reason | some v in vs; v.rule == "ad_unfollows"] == [{
		"code": "ad_unfollows",
		"detail": "40% of the last 5 broadcasts read as advertising; 45 unfollows in 7 days, unfollow rate at least 3.12% of delivered broadcasts; suspension level for service accounts: ads in 40% or more of at least 5 broadcasts, with an unfollow rate of at least 3% of delivered broadcasts and 20 or more unfollows",
	}]
}
