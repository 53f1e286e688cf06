# endymail: `make test` installs the real peers the interop tests drive (when
# run as root, through apt) and runs every test with skips forbidden.

PEERS := thunderbird libnss3-tools rnp gnupg dirmngr sq openssl sqlite3 xvfb wine wine64 \
	gcc-mingw-w64-x86-64-win32 postgresql dbus iproute2 curl
GO ?= go
FUZZTIME ?= 20000x

.PHONY: test peers unit fuzz vet lint build

test: peers vet lint
	ENDYMAIL_REQUIRE_INTEROP=1 $(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz

# peers installs the Debian packages the interop tests need, printing what it
# installs. Without root it only says what is missing.
peers:
	@missing=""; for p in $(PEERS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "peers: all installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "peers: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "peers: missing$$missing (run 'make peers' as root, or apt-get install them)"; fi

unit:
	$(GO) test ./...

vet:
	gofmt -l . | (! grep .) || (echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=windows $(GO) build -o /dev/null ./cmd/endymail
	GOOS=darwin $(GO) vet ./...

# lint runs staticcheck at a pinned version (fetched through the module
# proxy), for each platform endymail is built for: platform files differ.
lint:
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	bin/staticcheck ./...
	GOOS=windows bin/staticcheck ./...
	GOOS=darwin bin/staticcheck ./...

build:
	$(GO) build -o bin/endymail ./cmd/endymail
	GOOS=windows $(GO) build -o bin/endymail.exe ./cmd/endymail

# fuzz runs each fuzz target briefly (a count, not a duration: a duration
# deadline flakes on a loaded machine); `make fuzz FUZZTIME=5m` for longer.
fuzz:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz $$dir $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done
