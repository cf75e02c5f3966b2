package campaign_test

import data.moderation

_cfg := data.config.campaign

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

# An account of type whose latest broadcast has ad_score and whose text was
# broadcast by accounts accounts in 24 hours.
_input(type, accounts, ad_score, strikes) := {
	"account": {
		"id": "acct_c",
		"type": type,
		"verified": false,
		"age_days": 90,
		"strikes": strikes,
		"status": "allow",
	},
	"signals": {"campaign": {
		"accounts": accounts,
		"ad_score": ad_score,
		"evidence": sprintf("near-duplicate text broadcast by %v accounts in 24 h", [accounts]),
	}},
	"event": {"id": "evt_1", "kind": "broadcast", "at": "2026-01-01T12:00:00Z"},
}

_action(type, accounts, ad_score, strikes) := _decide(_input(type, accounts, ad_score, strikes)).action

_below := {"limit": "allow", "suspend": "limit"}

test_data_levels_rise_with_severity[type] if {
	some type, levels in _cfg.levels
	levels.limit < levels.suspend
}

test_fires_at_level[note] if {
	some type, levels in _cfg.levels
	some level, threshold in levels
	note := sprintf("%s %s at %v", [type, level, threshold])
	_action(type, threshold, _cfg.min_ad_score, 0) == level
}

test_does_not_fire_just_below_level[note] if {
	some type, levels in _cfg.levels
	some level, threshold in levels
	note := sprintf("%s %s below %v", [type, level, threshold])
	_action(type, threshold - 1, 1, 0) == _below[level]
}

test_not_an_ad_never_counts[note] if {
	some type, levels in _cfg.levels
	note := type
	_action(type, levels.suspend * 10, _cfg.min_ad_score - 0.01, 0) == "allow"
}

# Two or three accounts quoting the same headline, an ad-like one included,
# are not a campaign.
test_a_few_accounts_quoting_a_headline_are_allowed[note] if {
	some note, c in {
		"two": {"accounts": 2, "ad_score": 0.2},
		"three": {"accounts": 3, "ad_score": 0.6},
	}
	d := _decide(_input("subscription", c.accounts, c.ad_score, 0))
	d.action == "allow"
	d.reasons == []
}

test_limit_takes_broadcasting if {
	d := _decide(_input("subscription", 12, 0.8, 0))
	d.action == "limit"
	d.rule == "campaign"
	d.restricts == ["broadcast"]
	d.duration == "24h"
	d.reasons == [{
		"code": "campaign",
		"detail": "near-duplicate text broadcast by 12 accounts in 24 h; limit for subscription accounts: an ad (score 0.5 or more) broadcast by 10 or more accounts",
	}]
}

test_strikes_escalate_one_step[note] if {
	some note, c in {
		"limit becomes suspend": {"accounts": 10, "strikes": 1, "want": "suspend"},
		"suspend stays one strike short of closing": {"accounts": 30, "strikes": data.config.close_after_strikes - 1, "want": "suspend"},
		"suspend closes at close_after_strikes": {"accounts": 30, "strikes": data.config.close_after_strikes, "want": "close"},
		"limit closes through suspend": {"accounts": 10, "strikes": data.config.close_after_strikes, "want": "close"},
	}
	_action("personal", c.accounts, 0.9, c.strikes) == c.want
}

test_evidence_missing_is_described if {
	doc := json.remove(_input("service", 31, 0.75, 1), ["signals/campaign/evidence"])
	_decide(doc).reasons == [{
		"code": "campaign",
		"detail": "31 accounts broadcast near-duplicate text within 24 hours; ad score of this account's latest broadcast 0.75; suspension level for service accounts: an ad (score 0.5 or more) broadcast by 30 or more accounts",
	}]
}

test_missing_signals_allow[note] if {
	some note, signals in {
		"no signals": {},
		"no ad score": {"campaign": {"accounts": 500}},
		"no accounts": {"campaign": {"ad_score": 1}},
		"accounts not a number": {"campaign": {"accounts": "500", "ad_score": 1}},
	}
	_decide({"account": {"type": "subscription"}, "signals": signals}).action == "allow"
}

test_unknown_type_is_not_actioned if {
	_action("other", 1000, 1, 0) == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input("subscription", 10, 0.5, 0))
	d.title == "Advertising campaign across many accounts"
	d.ground == "Platform rules 5.4: coordinated spam across accounts"
	startswith(d.explanation, "This account broadcast an advertisement")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_is_exactly_the_levels if {
	got := {metric: levels |
		some metric, levels in moderation.watch
		startswith(metric, "campaign.")
	}
	got == {
		"campaign.accounts": sort((({l | some levels in _cfg.levels; some l in levels} | {l | some levels in _cfg.verified_levels; some l in levels}) | {_cfg.close.accounts})),
		"campaign.ad_score": sort({_cfg.min_ad_score, _cfg.close.ad_score}),
	}
}

# A mass campaign closes on the first occurrence, for every account type
# with levels, and takes both: very many accounts and text that is clearly
# an ad.
test_close_thresholds_are_above_the_other_levels[type] if {
	some type, levels in _cfg.levels
	_cfg.close.accounts > levels.suspend
	_cfg.close.ad_score > _cfg.min_ad_score
}

test_mass_campaign_closes_at_level[type] if {
	some type, _ in _cfg.levels
	d := _decide(_input(type, _cfg.close.accounts, _cfg.close.ad_score, 0))
	d.action == "close"
	d.rule == "campaign_mass"
	d.duration == ""
	d.restricts == []
	d.appealable == true
	[r.code | some r in d.reasons] == ["campaign_mass", "campaign"]
}

# Just below either level it is the suspension a large campaign gets.
test_mass_campaign_does_not_close_just_below[note] if {
	some type, _ in _cfg.levels
	some what, c in {
		"accounts": {"accounts": _cfg.close.accounts - 1, "ad_score": _cfg.close.ad_score},
		"ad score": {"accounts": _cfg.close.accounts, "ad_score": _cfg.close.ad_score - 0.01},
	}
	note := sprintf("%s %s", [type, what])
	d := _decide(_input(type, c.accounts, c.ad_score, 0))
	d.action == "suspend"
	d.rule == "campaign"
}

test_mass_campaign_closes_whatever_the_strikes[note] if {
	some strikes in [0, 1, data.config.close_after_strikes]
	note := sprintf("%v strikes", [strikes])
	_action("service", 400, 0.97, strikes) == "close"
}

# Text shared by very many accounts that is not an ad (a news headline, an
# announcement) is never a campaign, and an ad-like text shared widely but
# not clearly an ad is a suspension, not a closure.
test_look_alikes_of_a_mass_campaign_are_not_closed[note] if {
	some note, c in {
		"headline shared by 5,000 accounts": {"accounts": 5000, "ad_score": 0.3, "want": "allow"},
		"promotional-sounding announcement by 500 accounts": {"accounts": 500, "ad_score": 0.7, "want": "suspend"},
	}
	_action("subscription", c.accounts, c.ad_score, 0) == c.want
}

test_mass_campaign_needs_a_known_type if {
	_action("other", 1000, 1, 0) == "allow"
}

test_mass_campaign_is_explained if {
	_decide(_input("enterprise", 140, 0.93, 0)).reasons[0] == {
		"code": "campaign_mass",
		"detail": "near-duplicate text broadcast by 140 accounts in 24 h; closing level for every account type: an ad (score 0.9 or more) broadcast by 100 or more accounts",
	}
}

test_mass_campaign_metadata_flows_into_decision if {
	d := _decide(_input("subscription", 100, 0.9, 0))
	d.title == "Mass advertising campaign across accounts"
	d.ground == "Platform rules 5.4: coordinated spam across accounts"
	startswith(d.explanation, "This account broadcast an advertisement")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

# A verified account, one of many brands or a chain's stores sending
# near-duplicate coupons, is held to verified_levels: at and just below each.
_verified_input(type, accounts, ad_score) := object.union(_input(type, accounts, ad_score, 0), {"account": {"verified": true}})

test_verified_fires_at_level[note] if {
	some type, levels in _cfg.verified_levels
	some level, threshold in levels
	note := sprintf("%s %s at %v", [type, level, threshold])
	_decide(_verified_input(type, threshold, _cfg.min_ad_score)).action == level
}

test_verified_does_not_fire_just_below_level[note] if {
	some type, levels in _cfg.verified_levels
	some level, threshold in levels
	note := sprintf("%s %s below %v", [type, level, threshold])
	_decide(_verified_input(type, threshold - 1, 1)).action == _below[level]
}

test_verified_levels_are_above_the_others[type] if {
	some type, levels in _cfg.verified_levels
	levels.limit > _cfg.levels[type].suspend
	levels.limit < levels.suspend
}

# The generated mix's coupon brands: 40 verified brands filling in a few
# coupon templates on one day are not a campaign; 40 unverified shops are.
test_verified_brands_sharing_a_coupon_template_are_allowed if {
	_decide(_verified_input("subscription", 40, 0.6)).action == "allow"
	_decide(_input("subscription", 40, 0.6, 0)).action == "suspend"
}

# A mass campaign does not close a verified account at first: its levels
# decide, and it says they are a verified account's.
test_mass_campaign_does_not_close_a_verified_account if {
	d := _decide(_verified_input("subscription", _cfg.verified_levels.subscription.limit, 0.95))
	d.action == "limit"
	d.rule == "campaign"
	[r.code | some r in d.reasons] == ["campaign"]
	contains(d.reasons[0].detail, "limit for verified subscription accounts")
}
