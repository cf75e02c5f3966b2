# Package authz decides which caller may call which API method. Every gRPC
# call is decided by data.authz.decision (through internal/authz, which
# memoizes the answers), with input
#
#   {"method": "moderation.v1.ModerationService/Check",
#    "role": "service" | "reviewer" | "admin" | "owner",
#    "account": "own" | "other" | "none"}
#
# where account is what the account the request names is to the caller:
# "own" when an owner names the account bound to their token, "other" for
# any other account (every named account, for callers that are not owners),
# "none" when the request names no account. Health checks and reflection
# never reach this policy.
#
# Who may call what is the grants table below; the rules only read it.
# Anything it does not grant is refused, unknown methods and roles included.
package authz

# relations are the values input.account can take.
relations := {"own", "other", "none"}

# any_account grants a method whatever account the request names, or none.
any_account := relations

# own_account grants a method only on the account bound to the caller's
# token. It is the only narrower grant, so every refusal of an account
# is worded as an owner's (see _refusal).
own_account := {"own"}

# methods is every API method, as "service/method", with what it does in
# the words of a refusal: "<role> cannot <what it does>".
methods := {
	"moderation.v1.ModerationService/Check": "check accounts",
	"moderation.v1.ModerationService/BatchCheck": "check accounts in batches",
	"moderation.v1.ModerationService/Ingest": "ingest events",
	"moderation.v1.ModerationService/GetDecision": "read decisions",
	"moderation.v1.ModerationService/ListDecisions": "list decisions",
	"moderation.v1.ModerationService/WatchEnforcement": "watch enforcement changes",
	"moderation.v1.ReviewService/GetTimeline": "read account timelines",
	"moderation.v1.ReviewService/TakeAction": "take manual actions",
	"moderation.v1.ReviewService/Backtest": "backtest policies",
	"moderation.v1.ReviewService/ListAppeals": "list the appeal queue",
	"moderation.v1.ReviewService/ClaimAppeal": "claim appeals",
	"moderation.v1.ReviewService/DecideAppeal": "decide appeals",
	"moderation.v1.ReviewService/Reevaluate": "re-evaluate accounts",
	"moderation.v1.AppealService/FileAppeal": "file appeals",
	"moderation.v1.AppealService/GetAppeal": "read appeals as their owner",
	"moderation.v1.AppealService/ListMyAppeals": "list appeals as their owner",
	"moderation.v1.AppealService/WithdrawAppeal": "withdraw appeals",
	"moderation.v1.AdminService/MintToken": "mint tokens",
	"moderation.v1.AdminService/RevokeToken": "revoke tokens",
	"moderation.v1.AuditService/SearchAudit": "search the audit trail",
	"moderation.v1.AuditService/ExportAudit": "export the audit trail",
	"moderation.v1.AuditService/ExportStatements": "export statements of reasons",
	"moderation.v1.ConsoleService/GetPolicy": "read the policy in force",
	"moderation.v1.ConsoleService/GetMetrics": "read the service's metrics",
	# Not a gRPC method: signing in to the reviewer console (internal/webconsole),
	# asked with the relation "none". Every page of the console then calls the
	# methods above with the signed-in token, so this grant opens nothing else.
	"moderation.console/SignIn": "sign in to the reviewer console",
}

# grants is, for each role, the methods it may call and the accounts it may
# name in them. A method missing from a role's table is refused to it.
grants := {
	# Administrators run the service.
	"admin": {method: any_account | some method, _ in methods},
	# Platform services ask about accounts before acting and feed events in.
	# They never review, decide appeals or act for an owner.
	"service": {
		"moderation.v1.ModerationService/Check": any_account,
		"moderation.v1.ModerationService/BatchCheck": any_account,
		"moderation.v1.ModerationService/Ingest": any_account,
		"moderation.v1.ModerationService/GetDecision": any_account,
		"moderation.v1.ModerationService/ListDecisions": any_account,
		"moderation.v1.ModerationService/WatchEnforcement": any_account,
	},
	# Trust-and-safety reviewers read what services read and work the review
	# service. They do not inject events: what they do is a recorded manual
	# action, not an event that looks like the account's own.
	"reviewer": {
		"moderation.v1.ModerationService/Check": any_account,
		"moderation.v1.ModerationService/BatchCheck": any_account,
		"moderation.v1.ModerationService/GetDecision": any_account,
		"moderation.v1.ModerationService/ListDecisions": any_account,
		"moderation.v1.ModerationService/WatchEnforcement": any_account,
		"moderation.v1.ReviewService/GetTimeline": any_account,
		"moderation.v1.ReviewService/TakeAction": any_account,
		"moderation.v1.ReviewService/Backtest": any_account,
		"moderation.v1.ReviewService/ListAppeals": any_account,
		"moderation.v1.ReviewService/ClaimAppeal": any_account,
		"moderation.v1.ReviewService/DecideAppeal": any_account,
		"moderation.v1.ReviewService/Reevaluate": any_account,
		# The audit trail and its exports, for oversight; owners read their
		# own decisions through ModerationService instead.
		"moderation.v1.AuditService/SearchAudit": any_account,
		"moderation.v1.AuditService/ExportAudit": any_account,
		"moderation.v1.AuditService/ExportStatements": any_account,
		# The console's reads: the policy in force and the service's counters.
		"moderation.v1.ConsoleService/GetPolicy": any_account,
		"moderation.v1.ConsoleService/GetMetrics": any_account,
		"moderation.console/SignIn": any_account,
	},
	# Account owners, through the platform app: their own account's
	# standing and their own appeals, one account at a time.
	"owner": {
		"moderation.v1.ModerationService/Check": own_account,
		"moderation.v1.ModerationService/GetDecision": own_account,
		"moderation.v1.ModerationService/ListDecisions": own_account,
		"moderation.v1.ModerationService/WatchEnforcement": own_account,
		"moderation.v1.AppealService/FileAppeal": own_account,
		"moderation.v1.AppealService/GetAppeal": own_account,
		"moderation.v1.AppealService/ListMyAppeals": own_account,
		"moderation.v1.AppealService/WithdrawAppeal": own_account,
	},
}

# plural names a role in a refusal.
plural := {
	"admin": "admins",
	"service": "services",
	"reviewer": "reviewers",
	"owner": "owners",
}

# METADATA
# title: May this caller call this method?
# description: >-
#   Allows a call when grants gives the caller's role the method with the
#   account the request names; refuses anything else, unknown methods, roles
#   and account relations included. A refusal's reason says in plain words
#   why, for the caller's error message; an allowed call has an empty reason.
# entrypoint: true
decision := {"allow": true, "reason": ""} if {
	_account in grants[_role][_method]
} else := {"allow": false, "reason": _refusal}

# Without any input, nothing above is defined.
default decision := {"allow": false, "reason": "no input"}

# The call's fields, null where input lacks one. A rule that read a missing
# field directly would be undefined, and a refusal's later branch could then
# answer for it; null is no method, role or relation, so it is refused as
# unknown.
_method := object.get(input, "method", null)

_role := object.get(input, "role", null)

_account := object.get(input, "account", null)

# _refusal is why a call is refused, most basic fault first. It is only
# read when decision does not allow the call.
_refusal := "unknown method" if {
	not methods[_method]
} else := "unknown role" if {
	not grants[_role]
} else := "unknown account relation" if {
	not _account in relations
} else := _method_refusal if {
	not grants[_role][_method]
} else := sprintf("%s must name their own account", [plural[_role]]) if {
	_account == "none"
} else := sprintf("%s may only reach their own account", [plural[_role]])

# _method_refusal is why the caller's role may not call the method at all.
# A method only admins may call says so rather than naming the role.
_method_refusal := sprintf("only admins may %s", [methods[_method]]) if {
	not _granted_beyond_admins
} else := sprintf("%s cannot %s", [plural[_role], methods[_method]])

# _granted_beyond_admins holds when some role other than admin may call the
# method, with any account.
_granted_beyond_admins if {
	some role, table in grants
	role != "admin"
	table[_method]
}
