package moderation

# shared_targets: coordinated harvesting. Many young accounts each send
# friend requests to strangers under every per-account level, but all draw
# them from one pool of targets: the ring, not any one account, is doing
# bulk adding. It takes all three: the account is young (effective age under
# bulk_add's new_account_days, so a bought account that woke up counts), a
# large enough share of its recent strangers were also added by other young
# accounts, enough of them to be more than chance, and a ring of at least
# the data.json number of accounts. The bigger the ring, the stronger the
# action. Established accounts are never judged here: friends of friends
# and people in the same groups overlap in ordinary life.

# Undefined for account types data.json gives no levels.
_shared_levels := data.config.shared_targets.levels[input.account.type]

_shared_signal(field) := signal_value("shared_targets", field)

_shared_level := highest_level(_shared_levels, _shared_signal("ring_accounts")) if {
	_bulk_add_tier == "new"
	_shared_signal("overlap") >= data.config.shared_targets.min_overlap
	_shared_signal("shared") >= data.config.shared_targets.min_shared
}

_shared_evidence := e if {
	e := signal_evidence("shared_targets")
} else := sprintf("%v of this account's recent friend requests to strangers (%s) went to people %v other young accounts also added within 7 days", [
	_shared_signal("shared"),
	percent(_shared_signal("overlap")),
	_shared_signal("ring_accounts") - 1,
])

# METADATA
# title: Friend requests to strangers shared with a ring of new accounts
# description: >-
#   A new personal account (effective age under bulk_add's
#   new_account_days) sends friend requests to strangers of whom at least
#   data.json's share and number were also added by other new accounts
#   within 7 days, in a ring of at least data.json's number of accounts:
#   limit friend requests, or suspend for a large ring. Requests their
#   recipients report, and earlier strikes, each raise the action one step;
#   enough recent strikes turn a suspension into closing the account.
# custom:
#   ground: "Platform rules 4.2: bulk or automated friend requests"
#   explanation: >-
#     This new account sent friend requests to people it has no connection
#     with, and most of them were the same people that many other new
#     accounts also sent friend requests to in the same week. Accounts
#     sharing one list of people to add are how spam and scam operations
#     spread bulk adding over many accounts to stay under each account's
#     limits, so it is not allowed. Depending on how many accounts took
#     part, on how many of the people asked reported the requests, and on
#     earlier actions against this account, it cannot send friend requests
#     for a while or is suspended; an account that was limited or suspended
#     several times recently is closed instead of suspended. This notice
#     says which, and until when. Adding people who scan your QR code or
#     share your contact card is not affected, and neither are accounts
#     older than a month. If you think this is a mistake, you can appeal.
violations contains {
	"rule": "shared_targets",
	"action": action,
	"reason": {"code": "shared_targets", "detail": detail},
	"restricts": data.config.shared_targets.restricts,
	"title": meta.title,
	"ground": meta.custom.ground,
	"explanation": meta.custom.explanation,
} if {
	level := _shared_level
	raised := _bulk_add_raised(level)
	action := escalate(raised)
	detail := sprintf("%s; %s for %s%s: %v or more new accounts adding the same strangers, at least %s and %v of this account's strangers shared%s%s", [
		_shared_evidence,
		level_words[level],
		_bulk_add_tier_words,
		_bulk_add_dormant_note,
		_shared_levels[level],
		percent(data.config.shared_targets.min_overlap),
		data.config.shared_targets.min_shared,
		_bulk_add_reported_note(level, raised),
		escalation_note(raised, action),
	])
	meta := rego.metadata.rule()
}

watched contains {"metric": "shared_targets.overlap", "level": data.config.shared_targets.min_overlap}

watched contains {"metric": "shared_targets.shared", "level": data.config.shared_targets.min_shared}

watched contains {"metric": "shared_targets.ring_accounts", "level": threshold} if {
	some levels in data.config.shared_targets.levels
	some threshold in levels
}
