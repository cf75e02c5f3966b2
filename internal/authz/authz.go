// Package authz decides which caller may call which API method, by
// evaluating the embedded Rego policy policies/authz. It knows nothing of
// gRPC: callers pass the method's full name without the leading slash
// ("moderation.v1.ModerationService/Check"), the caller's role and what
// the account the request names is to the caller.
package authz

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	authzpolicy "moderation/policies/authz"
)

// Relation is what the account a request names is to the caller.
type Relation string

const (
	// RelOwn: the caller is an owner and the account is the one bound to
	// their token.
	RelOwn Relation = "own"
	// RelOther: any other account; for callers that are not owners, every
	// account.
	RelOther Relation = "other"
	// RelNone: the request names no account.
	RelNone Relation = "none"
)

// Decision is the policy's answer to one call. Reason says in plain words
// why a call is refused; it is empty when the call is allowed.
type Decision struct {
	Allow  bool
	Reason string
}

// Authorizer answers Decide from the embedded policy.
type Authorizer struct {
	query rego.PreparedEvalQuery

	// The methods, roles and relations the policy knows, read from it at
	// New. Only calls made of these are memoized, so the cache holds at
	// most their product whatever callers send.
	methods, roles, relations map[string]bool

	// decisions memoizes Decide by call. The policy is compiled into the
	// binary and never replaced at run time, so a decision once made holds
	// for the life of the process. A sync.Map suits it: written once per
	// call shape, then only read, by every gRPC call at once.
	decisions sync.Map // call -> Decision
}

type call struct {
	method, role string
	rel          Relation
}

// New compiles the embedded policy in strict mode and prepares its
// decision query. It fails, and the service must not start, if the policy
// does not compile: without it every call would be refused or, worse,
// decided by a policy nobody checked.
func New() (*Authorizer, error) {
	ctx := context.Background()
	modules, _, err := authzpolicy.Modules()
	if err != nil {
		return nil, fmt.Errorf("load authz policy: %w", err)
	}
	parsed := make(map[string]*ast.Module, len(modules))
	for _, name := range slices.Sorted(maps.Keys(modules)) {
		m, err := ast.ParseModuleWithOpts(name, modules[name], ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			return nil, fmt.Errorf("parse authz policy %s: %w", name, err)
		}
		parsed[name] = m
	}
	compiler := ast.NewCompiler().WithStrict(true).WithEnablePrintStatements(false)
	if compiler.Compile(parsed); compiler.Failed() {
		return nil, fmt.Errorf("compile authz policy: %w", compiler.Errors)
	}
	query, err := rego.New(rego.Query(authzpolicy.Query), rego.Compiler(compiler)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", authzpolicy.Query, err)
	}
	a := &Authorizer{query: query}
	if a.methods, err = keys(ctx, compiler, "object.keys(data.authz.methods)"); err != nil {
		return nil, err
	}
	if a.roles, err = keys(ctx, compiler, "object.keys(data.authz.grants)"); err != nil {
		return nil, err
	}
	if a.relations, err = keys(ctx, compiler, "data.authz.relations"); err != nil {
		return nil, err
	}
	return a, nil
}

// keys evaluates query, which must give a non-empty set of strings.
func keys(ctx context.Context, compiler *ast.Compiler, query string) (map[string]bool, error) {
	rs, err := rego.New(rego.Query(query), rego.Compiler(compiler)).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", query, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("evaluate %s: undefined", query)
	}
	values, ok := rs[0].Expressions[0].Value.([]any)
	if !ok || len(values) == 0 {
		return nil, fmt.Errorf("evaluate %s: got %v, want a non-empty set of strings", query, rs[0].Expressions[0].Value)
	}
	set := make(map[string]bool, len(values))
	for _, v := range values {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("evaluate %s: got %T %v in the set, want strings", query, v, v)
		}
		set[s] = true
	}
	return set, nil
}

// Decide tells whether a caller with role may call method (the gRPC full
// method name without its leading slash) on an account with relation rel.
// An error means the policy could not be evaluated; the call must then be
// refused.
func (a *Authorizer) Decide(ctx context.Context, method, role string, rel Relation) (Decision, error) {
	c := call{method: method, role: role, rel: rel}
	if d, ok := a.decisions.Load(c); ok {
		return d.(Decision), nil
	}
	d, err := a.evaluate(ctx, c)
	if err != nil {
		return Decision{}, err
	}
	// Callers choose method, role and rel, so memoizing whatever they send
	// would let them grow the cache without bound; calls the policy does
	// not know are refused anyway and are evaluated each time.
	if a.methods[method] && a.roles[role] && a.relations[string(rel)] {
		a.decisions.Store(c, d)
	}
	return d, nil
}

// evaluate asks the policy, without the cache.
func (a *Authorizer) evaluate(ctx context.Context, c call) (Decision, error) {
	input := ast.NewObject(
		ast.Item(ast.InternedTerm("method"), ast.StringTerm(c.method)),
		ast.Item(ast.InternedTerm("role"), ast.StringTerm(c.role)),
		ast.Item(ast.InternedTerm("account"), ast.StringTerm(string(c.rel))),
	)
	rs, err := a.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return Decision{}, fmt.Errorf("authorize %s as %s (account %s): %w", c.method, c.role, c.rel, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, fmt.Errorf("authorize %s as %s (account %s): %w", c.method, c.role, c.rel, errUndefined)
	}
	doc, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("authorize %s as %s (account %s): decision is %T, want object", c.method, c.role, c.rel, rs[0].Expressions[0].Value)
	}
	allow, okAllow := doc["allow"].(bool)
	reason, okReason := doc["reason"].(string)
	if !okAllow || !okReason {
		return Decision{}, fmt.Errorf("authorize %s as %s (account %s): decision %v, want {allow: bool, reason: string}", c.method, c.role, c.rel, doc)
	}
	return Decision{Allow: allow, Reason: reason}, nil
}

var errUndefined = errors.New(authzpolicy.Query + " is undefined")
