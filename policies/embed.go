// Package policies holds the Rego policy that decides what happens to an
// account, its tests and its thresholds (data.json), compiled into the binary.
//
// It knows nothing about OPA's Go API or about how the judge evaluates the
// policy: it only hands out source text and data, the same way for the
// embedded copy and for a directory that replaces it at run time.
package policies

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// FS is the policy compiled into the binary. The tests are embedded too: a
// candidate policy has to pass its own tests before it replaces a good one,
// and the embedded policy is held to the same bar.
//
//go:embed *.rego data.json
var FS embed.FS

// DataFile is the name of the thresholds file; its content is the root of
// the data document, so its "config" key is data.config in Rego.
const DataFile = "data.json"

const testSuffix = "_test.rego"

// Modules reads a policy from the top level of fsys, which is laid out like
// this directory: *.rego modules, *_test.rego tests and data.json. It splits
// the Rego files into policy modules and tests, keyed by file name, and
// decodes data.json (numbers as json.Number, so no threshold loses
// precision). Subdirectories are ignored, matching what FS embeds.
//
// A policy without modules or without data.json is an error rather than an
// empty policy: either would allow every account.
func Modules(fsys fs.FS) (modules map[string]string, tests map[string]string, data map[string]any, err error) {
	names, err := fs.Glob(fsys, "*.rego")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list policy files: %w", err)
	}
	modules = make(map[string]string)
	tests = make(map[string]string)
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		if strings.HasSuffix(name, testSuffix) {
			tests[name] = string(src)
		} else {
			modules[name] = string(src)
		}
	}
	if len(modules) == 0 {
		return nil, nil, nil, errors.New("no policy modules (*.rego) found")
	}

	raw, err := fs.ReadFile(fsys, DataFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", DataFile, err)
	}
	data, err = decodeData(raw)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("decode %s: %w", DataFile, err)
	}
	return modules, tests, data, nil
}

// decodeData decodes exactly one JSON object.
func decodeData(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	if data == nil {
		return nil, errors.New("want a JSON object, got null")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected content after the JSON object")
	}
	return data, nil
}
