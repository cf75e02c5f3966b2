# The README's two commands: `make run` starts the service on its embedded
# defaults; `make test` runs every check (Go tests with the race detector,
# the Rego policy's fmt/strict/tests/coverage from its Go test, lint, and a
# check that the generated gRPC code is current). Tools are pinned here.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test lint generate bench

run:
	go run ./cmd/moderationd

test: lint
	MODERATION_CHECK_GENERATED=1 go test -race -count=1 ./...

lint:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

generate:
	go generate ./api/...

bench:
	go run ./cmd/modctl bench
