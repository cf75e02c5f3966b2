package moderation

# bulk_add: a personal account sending friend requests to strangers in bulk.
# Only requests to strangers count (sources search, group, ...), so an
# organiser adding people who scan a QR code never trips it. New accounts get
# lower levels: a fresh account adding hundreds of strangers is the marketer's
# and the scammer's first move.

# The bulk_add signal field every level is compared against.
_bulk_add_metric := "hour_strangers"

# An account whose age is unknown gets the stricter levels of a new account.
_bulk_add_tier := "established" if {
	age := input.account.age_days
	is_number(age)
	age >= data.config.bulk_add.new_account_days
} else := "new"

# Undefined for account types data.json gives no levels: the rule does not
# apply to them.
_bulk_add_levels := data.config.bulk_add.levels[input.account.type][_bulk_add_tier]

_bulk_add_value := n if {
	n := input.signals.bulk_add[_bulk_add_metric]
	is_number(n)
}

# The most severe level crossed, if any.
_bulk_add_level := ladder[max(crossed)] if {
	crossed := {severity[level] |
		some level, threshold in _bulk_add_levels
		_bulk_add_value >= threshold
	}
	count(crossed) > 0
}

_bulk_add_level_words := {"warn": "warning level", "limit": "limit", "suspend": "suspension level"}

_bulk_add_tier_words := sprintf("accounts under %v days", [data.config.bulk_add.new_account_days]) if {
	_bulk_add_tier == "new"
} else := sprintf("accounts %v days or older", [data.config.bulk_add.new_account_days])

# What was seen, in the detector's words when it gave them.
_bulk_add_evidence := e if {
	e := input.signals.bulk_add.evidence
	is_string(e)
	e != ""
} else := sprintf("%v friend requests to strangers in one hour", [_bulk_add_value])

# METADATA
# title: Friend requests to strangers in bulk
# description: >-
#   A personal account sends more friend requests to strangers in one hour
#   than data.json allows for its age: warn, then limit friend requests, then
#   suspend. Earlier strikes raise the action one step.
# custom:
#   ground: "Platform rules 4.2: bulk or automated friend requests"
#   explanation: >-
#     This account sent a large number of friend requests within one hour to
#     people it has no connection with, such as people found by search or in
#     groups. Sending friend requests in bulk is how spam, scams and unwanted
#     advertising reach people, so it is not allowed. Depending on how many
#     requests were sent and on earlier actions against the account, it gets a
#     warning, cannot send friend requests for a while, or is suspended; this
#     notice says which, and until when. Adding people who scan your QR code
#     or share your contact card is not affected. If you think this is a
#     mistake, you can appeal.
violations contains {
	"rule": "bulk_add",
	"action": action,
	"reason": {"code": "bulk_add", "detail": detail},
	"restricts": data.config.bulk_add.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _bulk_add_level
	action := escalate(level)
	detail := sprintf("%s; %s for %s: %v to strangers in one hour%s", [
		_bulk_add_evidence,
		_bulk_add_level_words[level],
		_bulk_add_tier_words,
		_bulk_add_levels[level],
		escalation_note(level, action),
	])
	meta := rego.metadata.rule()
}

# Every level of every account type and tier, whether or not it applies to
# the account at hand: watch is a property of the policy, not of an input.
watched contains {"metric": concat(".", ["bulk_add", _bulk_add_metric]), "level": threshold} if {
	some tiers in data.config.bulk_add.levels
	some levels in tiers
	some threshold in levels
}
