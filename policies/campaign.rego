package moderation

# campaign: the same advertisement broadcast by many accounts at once, the
# way a spam operation spreads one text over accounts it controls. It takes
# both: the account's latest broadcast reads as an ad, and enough distinct
# accounts sent near-duplicate text within a day. A few accounts quoting the
# same headline are far below the levels, and a shared text that is not an
# ad (an announcement, a quote) never counts. A mass campaign, far more
# accounts and text that is unmistakably an ad (campaign_mass), closes the
# account on the first occurrence.

# A verified account is a business the platform has identified, and the
# stores of one chain sending the week's coupon in the same words, or many
# brands filling in one coupon template, are ordinary: near-duplicate text
# alone says little about them. Their levels (verified_levels) are set
# for a wave of verified accounts taken over at once, and a mass campaign
# never closes one at first; how their followers take the broadcasts
# (ad_content, complaint_rate) still applies to them as to anyone.
_campaign_verified if input.account.verified == true

# Undefined for account types data.json gives no levels.
_campaign_levels := data.config.campaign.verified_levels[input.account.type] if {
	_campaign_verified
} else := data.config.campaign.levels[input.account.type]

_campaign_signal(field) := signal_value("campaign", field)

_campaign_level := highest_level(_campaign_levels, _campaign_signal("accounts")) if {
	_campaign_signal("ad_score") >= data.config.campaign.min_ad_score
}

_campaign_tier_words := "verified " if _campaign_verified

else := ""

_campaign_evidence := e if {
	e := signal_evidence("campaign")
} else := sprintf("%v accounts broadcast near-duplicate text within 24 hours; ad score of this account's latest broadcast %v", [
	_campaign_signal("accounts"),
	_campaign_signal("ad_score"),
])

# METADATA
# title: Advertising campaign across many accounts
# description: >-
#   The account's latest broadcast reads as an ad (ad score at least the
#   data.json minimum) and near-duplicate text was broadcast by at least as
#   many distinct accounts within 24 hours as data.json sets for the account
#   type: limit broadcasting, or suspend for a large campaign. Earlier
#   strikes raise the action one step; enough recent strikes turn a
#   suspension into closing the account.
# custom:
#   ground: "Platform rules 5.4: coordinated spam across accounts"
#   explanation: >-
#     This account broadcast an advertisement whose text is nearly the same
#     as one broadcast by many other accounts within the same day. Sending
#     one advertisement through many accounts at once is how spam operations
#     get around the limits on each account, so it is not allowed. Depending
#     on how many accounts took part, and on earlier actions against this
#     account, it cannot send broadcasts for a while or is suspended; an
#     account that was limited or suspended several times recently is closed
#     instead of suspended. This notice says which, and until when. Sharing or quoting the same news or
#     announcement as a few other accounts is not affected. If you think this
#     is a mistake, you can appeal.
violations contains {
	"rule": "campaign",
	"action": action,
	"reason": {"code": "campaign", "detail": detail},
	"restricts": data.config.campaign.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _campaign_level
	action := escalate(level)
	detail := sprintf("%s; %s for %s%s accounts: an ad (score %v or more) broadcast by %v or more accounts%s", [
		_campaign_evidence,
		level_words[level],
		_campaign_tier_words,
		input.account.type,
		data.config.campaign.min_ad_score,
		_campaign_levels[level],
		escalation_note(level, action),
	])
	meta := rego.metadata.rule()
}

# One level for every account type, but like the rule above only for types
# data.json gives levels.
_campaign_close := data.config.campaign.close

_campaign_mass if {
	_campaign_levels
	not _campaign_verified
	_campaign_signal("accounts") >= _campaign_close.accounts
	_campaign_signal("ad_score") >= _campaign_close.ad_score
}

# METADATA
# title: Mass advertising campaign across accounts
# description: >-
#   Severe abuse, closed without earlier strikes: the account's latest
#   broadcast is clearly an ad (ad score at least data.json's closing
#   level) and near-duplicate text was broadcast by at least data.json's
#   closing number of distinct accounts within 24 hours, for an account
#   type campaign has levels for. Close, with no end date: the account is
#   frozen until an appeal or the purge.
# custom:
#   ground: "Platform rules 5.4: coordinated spam across accounts"
#   explanation: >-
#     This account broadcast an advertisement whose text is nearly the same
#     as one broadcast by a very large number of other accounts within the
#     same day. A campaign this large is run by a spam operation through
#     accounts it controls, so the account is closed now, even without
#     earlier actions against it. A closed account is frozen: it cannot send
#     broadcasts or friend requests, and it is not deleted while it can
#     still be appealed. This notice says until when you can appeal. If you
#     think this is a mistake, you can appeal.
violations contains {
	"rule": "campaign_mass",
	"action": "close",
	"reason": {"code": "campaign_mass", "detail": detail},
	"restricts": [],
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	_campaign_mass
	detail := sprintf("%s; closing level for every account type: an ad (score %v or more) broadcast by %v or more accounts", [
		_campaign_evidence,
		_campaign_close.ad_score,
		_campaign_close.accounts,
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": "campaign.ad_score", "level": data.config.campaign.min_ad_score}

watched contains {"metric": "campaign.accounts", "level": threshold} if {
	some levels in data.config.campaign.levels
	some threshold in levels
}

watched contains {"metric": "campaign.accounts", "level": threshold} if {
	some levels in data.config.campaign.verified_levels
	some threshold in levels
}

watched contains {"metric": "campaign.accounts", "level": data.config.campaign.close.accounts}

watched contains {"metric": "campaign.ad_score", "level": data.config.campaign.close.ad_score}
