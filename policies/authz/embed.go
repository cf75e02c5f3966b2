// Package authz holds the Rego policy that decides which caller may call
// which API method, and its tests, compiled into the binary.
//
// It is kept apart from the moderation policy in the parent directory: that
// one can be replaced at run time by a candidate that passes its tests, this
// one is fixed in the binary, and neither should load the other's modules. Like its parent, this package
// only hands out source text; it knows nothing of OPA's Go API or of gRPC.
package authz

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// FS is the policy and its tests. The tests are embedded so the Go tests
// hold the embedded copy, the one the binary runs, to them.
//
//go:embed *.rego
var FS embed.FS

// Query is the document the policy answers with: {"allow": bool, "reason": string}.
const Query = "data.authz.decision"

const testSuffix = "_test.rego"

// Modules returns the policy modules and the Rego tests in FS, keyed by
// file name. A policy without modules is an error rather than an empty
// policy, which would leave the decision undefined.
func Modules() (modules, tests map[string]string, err error) {
	names, err := fs.Glob(FS, "*.rego")
	if err != nil {
		return nil, nil, fmt.Errorf("list authz policy files: %w", err)
	}
	modules = make(map[string]string)
	tests = make(map[string]string)
	for _, name := range names {
		src, err := fs.ReadFile(FS, name)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		if strings.HasSuffix(name, testSuffix) {
			tests[name] = string(src)
		} else {
			modules[name] = string(src)
		}
	}
	if len(modules) == 0 {
		return nil, nil, errors.New("no authz policy modules (*.rego) found")
	}
	return modules, tests, nil
}
