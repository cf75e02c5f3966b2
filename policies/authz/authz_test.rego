package authz_test

import data.authz

# Tests name methods by their short name; _m gives the full one.
_m(short) := full if {
	some full, _ in authz.methods
	split(full, "/")[1] == short
}

_decide(method, role, account) := d if {
	d := authz.decision with input as {"method": method, "role": role, "account": account}
}

_allowed(method, role, account) if _decide(method, role, account).allow == true

_refused(method, role, account) := reason if {
	d := _decide(method, role, account)
	d.allow == false
	reason := d.reason
}

_every_method := object.keys(authz.methods)

# _note names a case in a test's results.
_note(method, account) := sprintf("%s with account %s", [split(method, "/")[1], account])

# Every method, by short name, with a call that must be allowed and one
# that must be refused, and the refusal's reason.
_cases := {
	"Check": {
		"allowed": ["service", "other"],
		"refused": ["owner", "other", "owners may only reach their own account"],
	},
	"BatchCheck": {
		"allowed": ["reviewer", "other"],
		"refused": ["owner", "own", "owners cannot check accounts in batches"],
	},
	"Ingest": {
		"allowed": ["service", "none"],
		"refused": ["reviewer", "none", "reviewers cannot ingest events"],
	},
	"GetDecision": {
		"allowed": ["owner", "own"],
		"refused": ["owner", "none", "owners must name their own account"],
	},
	"ListDecisions": {
		"allowed": ["reviewer", "none"],
		"refused": ["owner", "other", "owners may only reach their own account"],
	},
	"WatchEnforcement": {
		"allowed": ["service", "none"],
		"refused": ["owner", "none", "owners must name their own account"],
	},
	"GetTimeline": {
		"allowed": ["reviewer", "other"],
		"refused": ["service", "other", "services cannot read account timelines"],
	},
	"TakeAction": {
		"allowed": ["reviewer", "other"],
		"refused": ["owner", "own", "owners cannot take manual actions"],
	},
	"Backtest": {
		"allowed": ["reviewer", "none"],
		"refused": ["service", "none", "services cannot backtest policies"],
	},
	"ListAppeals": {
		"allowed": ["reviewer", "none"],
		"refused": ["owner", "none", "owners cannot list the appeal queue"],
	},
	"ClaimAppeal": {
		"allowed": ["reviewer", "none"],
		"refused": ["service", "none", "services cannot claim appeals"],
	},
	"DecideAppeal": {
		"allowed": ["reviewer", "none"],
		"refused": ["service", "none", "services cannot decide appeals"],
	},
	"Reevaluate": {
		"allowed": ["admin", "none"],
		"refused": ["owner", "own", "owners cannot re-evaluate accounts"],
	},
	"FileAppeal": {
		"allowed": ["owner", "own"],
		"refused": ["reviewer", "other", "reviewers cannot file appeals"],
	},
	"GetAppeal": {
		"allowed": ["owner", "own"],
		"refused": ["service", "other", "services cannot read appeals as their owner"],
	},
	"ListMyAppeals": {
		"allowed": ["owner", "own"],
		"refused": ["owner", "other", "owners may only reach their own account"],
	},
	"WithdrawAppeal": {
		"allowed": ["admin", "other"],
		"refused": ["owner", "other", "owners may only reach their own account"],
	},
	"MintToken": {
		"allowed": ["admin", "none"],
		"refused": ["reviewer", "none", "only admins may mint tokens"],
	},
	"RevokeToken": {
		"allowed": ["admin", "none"],
		"refused": ["service", "none", "only admins may revoke tokens"],
	},
	"SignIn": {
		"allowed": ["reviewer", "none"],
		"refused": ["owner", "none", "owners cannot sign in to the reviewer console"],
	},
	"SearchAudit": {
		"allowed": ["reviewer", "other"],
		"refused": ["owner", "own", "owners cannot search the audit trail"],
	},
	"ExportAudit": {
		"allowed": ["reviewer", "none"],
		"refused": ["service", "none", "services cannot export the audit trail"],
	},
	"ExportStatements": {
		"allowed": ["admin", "none"],
		"refused": ["owner", "none", "owners cannot export statements of reasons"],
	},
	"GetPolicy": {
		"allowed": ["reviewer", "none"],
		"refused": ["owner", "none", "owners cannot read the policy in force"],
	},
	"GetMetrics": {
		"allowed": ["reviewer", "none"],
		"refused": ["service", "none", "services cannot read the service's metrics"],
	},
}

test_cases_cover_every_method if {
	{_m(short) | some short, _ in _cases} == _every_method
}

test_every_method_allows[short] if {
	some short, c in _cases
	_decide(_m(short), c.allowed[0], c.allowed[1]) == {"allow": true, "reason": ""}
}

test_every_method_refuses_with_reason[short] if {
	some short, c in _cases
	_refused(_m(short), c.refused[0], c.refused[1]) == c.refused[2]
}

test_admins_may_call_everything[note] if {
	some method in _every_method
	some account in authz.relations
	note := _note(method, account)
	_allowed(method, "admin", account)
}

test_services_may_call_only_the_moderation_service[note] if {
	some method in _every_method
	some account in {"other", "none"}
	note := _note(method, account)
	_decide(method, "service", account).allow == startswith(method, "moderation.v1.ModerationService/")
}

test_only_reviewers_and_admins_may_sign_in_to_the_console[role] if {
	some role, reason in {
		"service": "services cannot sign in to the reviewer console",
		"owner": "owners cannot sign in to the reviewer console",
	}
	_refused(_m("SignIn"), role, "none") == reason
}

test_services_cannot_decide_appeals if {
	_refused(_m("DecideAppeal"), "service", "other") == "services cannot decide appeals"
}

# What a reviewer may call: the review and audit services, reading
# moderation, and the console's sign-in.
_reviewer_methods := {_m(short) | some short in {"Check", "BatchCheck", "GetDecision", "ListDecisions", "WatchEnforcement", "SignIn"}} | {method |
	some method in _every_method
	some service in {"moderation.v1.ReviewService/", "moderation.v1.AuditService/", "moderation.v1.ConsoleService/"}
	startswith(method, service)
}

test_reviewers_may_call_the_review_and_audit_services_and_read_moderation[note] if {
	some method in _reviewer_methods
	some account in {"other", "none"}
	note := _note(method, account)
	_allowed(method, "reviewer", account)
}

test_reviewers_may_call_nothing_else[note] if {
	some method in (_every_method - _reviewer_methods)
	some account in {"other", "none"}
	note := _note(method, account)
	_refused(method, "reviewer", account) != ""
}

test_reviewers_cannot_ingest_appeal_or_mint[short] if {
	some short in {"Ingest", "FileAppeal", "GetAppeal", "ListMyAppeals", "WithdrawAppeal", "MintToken"}
	_refused(_m(short), "reviewer", "other")
}

# What an owner may call on their own account; everything else is refused
# even on their own account.
_owner_methods := {_m(short) | some short in {
	"Check", "GetDecision", "ListDecisions", "WatchEnforcement",
	"FileAppeal", "GetAppeal", "ListMyAppeals", "WithdrawAppeal",
}}

test_owners_reach_only_their_own_account[note] if {
	some method in _owner_methods
	some account, reason in {
		"other": "owners may only reach their own account",
		"none": "owners must name their own account",
	}
	note := _note(method, account)
	_allowed(method, "owner", "own")
	_refused(method, "owner", account) == reason
}

test_owners_cannot_call_other_methods_even_on_their_account[note] if {
	some method in (_every_method - _owner_methods)
	some account in authz.relations
	note := _note(method, account)
	_refused(method, "owner", account) != ""
}

test_only_admins_may_mint_tokens[role] if {
	some role in {"service", "reviewer", "owner"}
	_refused(_m("MintToken"), role, "own") == "only admins may mint tokens"
}

test_unknown_method_is_refused[note] if {
	some note, method in {
		"unknown method": "moderation.v1.ModerationService/Delete",
		"unknown service": "moderation.v2.ModerationService/Check",
		"leading slash": "/moderation.v1.ModerationService/Check",
		"health check": "grpc.health.v1.Health/Check",
		"empty": "",
	}
	_decide(method, "admin", "none") == {"allow": false, "reason": "unknown method"}
}

test_unknown_role_is_refused[note] if {
	some note, role in {"unknown": "superuser", "plural": "admins", "wrong case": "Admin", "empty": ""}
	_decide(_m("Check"), role, "none") == {"allow": false, "reason": "unknown role"}
}

test_unknown_account_relation_is_refused[note] if {
	some note, account in {"unknown": "mine", "empty": "", "a set": {"own"}}
	_decide(_m("Check"), "admin", account) == {"allow": false, "reason": "unknown account relation"}
}

test_missing_fields_are_refused_as_unknown[note] if {
	some note, c in {
		"nothing": [{}, "unknown method"],
		"no method": [{"role": "admin", "account": "none"}, "unknown method"],
		"no role": [{"method": _m("Check"), "account": "none"}, "unknown role"],
		"no account": [{"method": _m("Check"), "role": "admin"}, "unknown account relation"],
		"null account": [{"method": _m("Check"), "role": "owner", "account": null}, "unknown account relation"],
	}
	[doc, reason] := c
	d := authz.decision with input as doc
	d == {"allow": false, "reason": reason}
}

test_no_input_is_refused if {
	authz.decision == {"allow": false, "reason": "no input"}
}

test_every_role_has_a_plural if {
	object.keys(authz.grants) == object.keys(authz.plural)
}

test_grants_name_only_known_methods_and_relations[note] if {
	some role, table in authz.grants
	some method, accounts in table
	note := sprintf("%s: %s", [role, method])
	authz.methods[method]
	count(accounts) > 0
	accounts - authz.relations == set()
}
