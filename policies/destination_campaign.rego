package moderation

# destination_campaign: a ring of accounts sending buyers to the same place,
# whatever the wording. Paraphrasing an offer defeats near-duplicate text
# (campaign), but the operation still has to tell buyers where to go: a
# WeChat id, a phone or QQ number, a link. It takes both: a broadcast of
# the account's naming the destination within 72 hours reads as an ad (the
# detector's ad_score is the highest among them, so an ordinary post after
# the ad changes nothing), and enough distinct accounts sent buyers to the
# same handle or link destination within 72 hours. Generic
# destinations (a marketplace, a government site) are not counted by the
# detector, and a text that is not an ad (a price report quoting a hotline)
# never counts. Verified accounts are held to higher levels: several
# verified branches of one business advertising the head office's number
# is ordinary; several unverified accounts doing it is how a ring works.

_dest_tier := "verified" if {
	input.account.verified == true
} else := "unverified"

# Undefined for account types data.json gives no levels.
_dest_levels := data.config.destination_campaign.levels[input.account.type][_dest_tier]

_dest_signal(field) := signal_value("destination_campaign", field)

# The account's broadcast naming the destination reads as an ad, judged
# with the campaign's other broadcasts naming it: a ring member whose own wording
# is milder than the rest (an ad score just under the level) still sells
# with them. Its own score must still be some way towards an ad, so a text
# that only names the handle (a news item warning readers about it) never
# counts.
_dest_ad_enough if {
	own := _dest_signal("ad_score")
	own >= data.config.destination_campaign.min_own_ad_score
	max({own, _dest_campaign_score(own)}) >= data.config.destination_campaign.min_ad_score
}

# The campaign's mean ad score, or the broadcast's own where the detector
# reports none.
_dest_campaign_score(own) := s if {
	s := _dest_signal("campaign_ad_score")
} else := own

_dest_level := highest_level(_dest_levels, _dest_signal("accounts")) if {
	_dest_ad_enough
}

_dest_evidence := e if {
	e := signal_evidence("destination_campaign")
} else := sprintf("the latest broadcast sent buyers to a contact or link that %v other accounts also sent buyers to within 72 hours; its ad score %v", [
	_dest_signal("accounts") - 1,
	_dest_signal("ad_score"),
])

# METADATA
# title: Advertising that sends buyers to a contact many accounts share
# description: >-
#   A broadcast of the account's within 72 hours reads as an ad (ad score
#   at least the data.json minimum) and sends buyers to a contact handle (WeChat id,
#   phone or QQ number) or link destination that at least data.json's number
#   of distinct accounts, for the account's type and verification, sent
#   buyers to within 72 hours: limit broadcasting, or suspend for a large
#   ring. Earlier strikes raise the action one step; enough recent strikes
#   turn a suspension into closing the account.
# custom:
#   ground: "Platform rules 5.4: coordinated spam across accounts"
#   explanation: >-
#     This account broadcast an advertisement that tells buyers to contact
#     the same WeChat id, phone number, QQ number or website as
#     advertisements from several other accounts in the last three days,
#     even though the wording differs. Advertising one seller through many
#     accounts is how spam operations get around the limits on each
#     account, so it is not allowed. Depending on how many accounts took
#     part, and on earlier actions against this account, it cannot send
#     broadcasts for a while or is suspended; an account that was limited or
#     suspended several times recently is closed instead of suspended. This
#     notice says which, and until when. Giving a public hotline or a
#     well-known shop's address in broadcasts that are not advertising is
#     not affected. If you think this is a mistake, you can appeal.
violations contains {
	"rule": "destination_campaign",
	"action": action,
	"reason": {"code": "destination_campaign", "detail": detail},
	"restricts": data.config.destination_campaign.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _dest_level
	action := escalate(level)
	detail := sprintf("%s; %s for %s %s accounts: an ad (score %v or more) sending buyers to a contact or link that %v or more accounts sent buyers to within 72 hours%s", [
		_dest_evidence,
		level_words[level],
		_dest_tier,
		input.account.type,
		data.config.destination_campaign.min_ad_score,
		_dest_levels[level],
		escalation_note(level, action),
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": "destination_campaign.ad_score", "level": data.config.destination_campaign.min_ad_score}

watched contains {"metric": "destination_campaign.ad_score", "level": data.config.destination_campaign.min_own_ad_score}

watched contains {"metric": "destination_campaign.campaign_ad_score", "level": data.config.destination_campaign.min_ad_score}

watched contains {"metric": "destination_campaign.accounts", "level": threshold} if {
	some tiers in data.config.destination_campaign.levels
	some levels in tiers
	some threshold in levels
}
