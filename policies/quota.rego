package moderation

# broadcast_quota: an official account broadcasting more often than its
# account type may. The quotas are the platform's published ones, per
# calendar day or calendar month as data.json says for each type: going over
# warns, going well over limits broadcasting. Types without a quota
# (personal, enterprise) are never actioned here.

# Missing or anything but true counts as unverified: the smaller quota.
_quota_tier := "verified" if {
	input.account.verified == true
} else := "unverified"

# Undefined for account types data.json gives no quota.
_quota := data.config.broadcast_quota.quotas[input.account.type][_quota_tier]

_quota_value := n if {
	n := input.signals.broadcast_quota[_quota.period]
	is_number(n)
}

_quota_level := highest_level(_quota.levels, _quota_value)

_quota_level_words := {"warn": "warning from", "limit": "broadcasting limited from"}

_quota_evidence := e if {
	e := signal_evidence("broadcast_quota")
} else := sprintf("%v broadcasts this calendar %s", [_quota_value, _quota.period])

# METADATA
# title: Broadcasts over the account's quota
# description: >-
#   An official account sends more broadcasts in a calendar day or month
#   than data.json allows for its type (subscription: per day, more when
#   verified; service: per month): warn when over the quota, limit
#   broadcasting when well over it. Earlier strikes raise the action one
#   step; enough recent strikes turn a suspension into closing the account.
# custom:
#   ground: "Platform rules 3.1: broadcast frequency of official accounts"
#   explanation: >-
#     Each type of official account may send a set number of broadcasts to
#     its followers: subscription accounts a set number per calendar day
#     (more once verified), service accounts a set number per calendar month.
#     The limit keeps followers' chats from being flooded. This account sent
#     more broadcasts than its type allows in the current period. Going a
#     little over brings a warning; going well over, or doing it again after
#     earlier actions, means the account cannot send broadcasts for a while.
#     Going well over again after earlier actions suspends the account, and
#     an account that was limited or suspended several times recently is
#     closed instead. This notice says the counts, the quota and until when. Replying to
#     messages and everything else the account does is not affected. If you
#     think this is a mistake, you can appeal.
violations contains {
	"rule": "broadcast_quota",
	"action": action,
	"reason": {"code": "broadcast_quota", "detail": detail},
	"restricts": data.config.broadcast_quota.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _quota_level
	action := escalate(level)
	detail := sprintf("%s; %s %s accounts may send %v per calendar %s, %s %v%s", [
		_quota_evidence,
		_quota_tier,
		input.account.type,
		_quota.quota,
		_quota.period,
		_quota_level_words[level],
		_quota.levels[level],
		escalation_note(level, action),
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": concat(".", ["broadcast_quota", quota.period]), "level": threshold} if {
	some tiers in data.config.broadcast_quota.quotas
	some quota in tiers
	some threshold in quota.levels
}
