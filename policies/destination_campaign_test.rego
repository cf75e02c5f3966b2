package destination_campaign_test

import data.moderation

# Levels are read from data.json so retuning keeps these tests meaningful;
# the look-alikes use literal numbers: they are accounts the numbers must
# leave alone.

_cfg := data.config.destination_campaign

_levels := _cfg.levels

_decide(doc) := d if {
	d := moderation.decision with input as doc
}

_tier_verified := {"unverified": false, "verified": true}

# An account of type whose latest broadcast, with ad score score, sent
# buyers to a handle accounts accounts sent buyers to within 72 hours.
_input(type, verified, accounts, score, strikes) := {
	"account": {"id": "acct_d", "type": type, "verified": verified, "age_days": 12, "strikes": strikes, "status": "allow"},
	"signals": {"destination_campaign": {
		"accounts": accounts,
		"ad_score": score,
		"evidence": sprintf("sent buyers to wx12ab34, which %v other accounts also sent buyers to in 3 days", [accounts - 1]),
	}},
	"event": {"id": "evt_1", "kind": "broadcast", "at": "2026-01-01T12:00:00Z"},
}

_action(type, verified, accounts, score) := _decide(_input(type, verified, accounts, score, 0)).action

test_data_levels_rise_with_severity[note] if {
	some type, tiers in _levels
	some tier, levels in tiers
	note := sprintf("%s %s", [type, tier])
	levels.limit < levels.suspend
}

# Verified accounts are held to higher levels, never lower.
test_data_verified_levels_are_not_lower[note] if {
	some type, tiers in _levels
	some level, threshold in tiers.unverified
	note := sprintf("%s %s", [type, level])
	tiers.verified[level] >= threshold
}

test_fires_at_level[note] if {
	some type, tiers in _levels
	some tier, levels in tiers
	some level, accounts in levels
	note := sprintf("%s %s %s at %v", [type, tier, level, accounts])
	d := _decide(_input(type, _tier_verified[tier], accounts, _cfg.min_ad_score, 0))
	d.action == level
	d.rule == "destination_campaign"
	d.restricts == object.get({"limit": ["broadcast"]}, level, [])
}

test_does_not_fire_just_below_level[note] if {
	some type, tiers in _levels
	some tier, levels in tiers
	some level, accounts in levels
	some what, c in {
		"accounts": {"accounts": accounts - 1, "score": 1, "want": {"limit": "allow", "suspend": "limit"}[level]},
		"ad score": {"accounts": accounts, "score": _cfg.min_ad_score - 0.01, "want": "allow"},
	}
	note := sprintf("%s %s %s, %s just below", [type, tier, level, what])
	_action(type, _tier_verified[tier], c.accounts, c.score) == c.want
}

# A ring of 20 unverified accounts paraphrasing one offer, all sending
# buyers to the same WeChat id.
test_paraphrasing_ring_is_limited_or_worse if {
	d := _decide(_input("subscription", false, 20, 0.87, 0))
	moderation.severity[d.action] >= moderation.severity.limit
	d.action == "suspend"
	d.reasons == [{
		"code": "destination_campaign",
		"detail": "sent buyers to wx12ab34, which 19 other accounts also sent buyers to in 3 days; suspension level for unverified subscription accounts: an ad (score 0.5 or more) sending buyers to a contact or link that 10 or more accounts sent buyers to within 72 hours",
	}]
}

test_strikes_escalate_one_step[note] if {
	some note, c in {
		"limit becomes suspend": {"accounts": _levels.subscription.unverified.limit, "strikes": 1, "want": "suspend"},
		"suspend stays one strike short of closing": {"accounts": _levels.subscription.unverified.suspend, "strikes": data.config.close_after_strikes - 1, "want": "suspend"},
		"suspend closes at close_after_strikes": {"accounts": _levels.subscription.unverified.suspend, "strikes": data.config.close_after_strikes, "want": "close"},
	}
	_decide(_input("subscription", false, c.accounts, 0.9, c.strikes)).action == c.want
}

# Daily price reports quoting the same hotline and market site as other
# reporters (not ads), and a few verified branches of one business
# advertising the head office's number.
test_look_alikes_are_not_limited[note] if {
	some note, c in {
		"price reports quoting one hotline": {"verified": false, "accounts": 40, "score": 0.3},
		"verified branches of one chain": {"verified": true, "accounts": 6, "score": 0.95},
		"one seller's own two accounts": {"verified": false, "accounts": 2, "score": 0.99},
	}
	_action("subscription", c.verified, c.accounts, c.score) == "allow"
}

test_evidence_missing_is_described if {
	doc := json.remove(_input("service", true, 31, 0.8, 0), ["signals/destination_campaign/evidence"])
	_decide(doc).reasons == [{
		"code": "destination_campaign",
		"detail": "the latest broadcast sent buyers to a contact or link that 30 other accounts also sent buyers to within 72 hours; its ad score 0.8; suspension level for verified service accounts: an ad (score 0.5 or more) sending buyers to a contact or link that 30 or more accounts sent buyers to within 72 hours",
	}]
}

test_missing_signals_allow[note] if {
	some note, c in {
		"no signals": {"type": "subscription", "signals": {}},
		"no ad score": {"type": "subscription", "signals": {"destination_campaign": {"accounts": 500}}},
		"no accounts": {"type": "subscription", "signals": {"destination_campaign": {"ad_score": 1}}},
		"accounts not a number": {"type": "subscription", "signals": {"destination_campaign": {"accounts": "500", "ad_score": 1}}},
		"unknown type": {"type": "other", "signals": {"destination_campaign": {"accounts": 500, "ad_score": 1}}},
	}
	_decide({"account": {"type": c.type}, "signals": c.signals}).action == "allow"
}

test_metadata_flows_into_decision if {
	d := _decide(_input("personal", false, _levels.personal.unverified.limit, 0.9, 0))
	d.title == "Advertising that sends buyers to a contact many accounts share"
	d.ground == "Platform rules 5.4: coordinated spam across accounts"
	startswith(d.explanation, "This account broadcast an advertisement that tells buyers")
	endswith(d.explanation, "If you think this is a mistake, you can appeal.")
}

test_watch_has_every_level if {
	moderation.watch["destination_campaign.accounts"] == sort({l | some tiers in _levels; some levels in tiers; some l in levels})
	moderation.watch["destination_campaign.ad_score"] == sort({_cfg.min_own_ad_score, _cfg.min_ad_score})
	moderation.watch["destination_campaign.campaign_ad_score"] == [_cfg.min_ad_score]
}

# A ring member whose own wording is milder than the rest: its score is
# under the level, the campaign's is well over it.
_with_campaign(own, campaign) := json.patch(_input("subscription", false, 20, own, 0), [{"op": "add", "path": "/signals/destination_campaign/campaign_ad_score", "value": campaign}])

test_mild_ring_member_judged_with_the_campaign[note] if {
	some note, c in {
		"own just under the level, campaign over it": {"own": _cfg.min_ad_score - 0.04, "campaign": 0.85, "want": "suspend"},
		"own at the floor, campaign at the level": {"own": _cfg.min_own_ad_score, "campaign": _cfg.min_ad_score, "want": "suspend"},
		"own just under the floor: naming the handle is not selling": {"own": _cfg.min_own_ad_score - 0.01, "campaign": 0.99, "want": "allow"},
		"a news item warning readers about the handle": {"own": 0.05, "campaign": 0.95, "want": "allow"},
		"neither an ad": {"own": 0.45, "campaign": _cfg.min_ad_score - 0.01, "want": "allow"},
	}
	_decide(_with_campaign(c.own, c.campaign)).action == c.want
}
