package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"moderation/internal/natsbus"
)

// natsFlags are how a command finds and authenticates to NATS. The
// environment means what it means to moderationd: MODERATION_NATS_URL is
// an external server both use; without it, the embedded server listens on
// MODERATION_NATS_LISTEN.
type natsFlags struct {
	url, creds, ca, dataDir string
	role                    string // whose credentials under -data-dir are the default
}

func addNATSFlags(fs *flag.FlagSet, role string) *natsFlags {
	f := &natsFlags{role: role}
	fs.StringVar(&f.url, "nats-url", defaultNATSURL(), "NATS server: MODERATION_NATS_URL (an external server), else the embedded one at MODERATION_NATS_LISTEN")
	fs.StringVar(&f.creds, "nats-creds", "", fmt.Sprintf("user credentials (.creds); empty: nats/%s.creds under -data-dir, which moderationd creates on first start", role))
	fs.StringVar(&f.ca, "nats-ca", envOr("MODERATION_NATS_CA", ""), "CA (PEM) that signed the NATS server's certificate, for a server with TLS")
	fs.StringVar(&f.dataDir, "data-dir", envOr("MODERATION_DATA_DIR", "./data"), "the service's data directory, where its NATS credentials are")
	return f
}

// defaultNATSURL is where the service's NATS is, by the service's own
// settings.
func defaultNATSURL() string {
	if url := os.Getenv("MODERATION_NATS_URL"); url != "" {
		return url
	}
	return "nats://" + envOr("MODERATION_NATS_LISTEN", "127.0.0.1:4222")
}

// connect connects to NATS for one command, with the role's credentials.
func (f *natsFlags) connect(name string) (*nats.Conn, jetstream.JetStream, error) {
	creds := f.creds
	if creds == "" {
		if p := natsbus.CredsPath(f.dataDir, f.role); fileExists(p) {
			creds = p
		}
	}
	var opts []nats.Option
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	if f.role == natsbus.RoleService {
		opts = append(opts, natsbus.ServiceInbox())
	}
	if f.ca != "" {
		opts = append(opts, nats.RootCAs(f.ca))
	}
	nc, err := natsbus.Connect(f.url, name, opts...)
	switch {
	case err != nil && creds == "" && errors.Is(err, nats.ErrAuthorization):
		return nil, nil, fmt.Errorf("%w: no credentials at %s: start moderationd once (it creates them in its data directory), or pass -data-dir or -nats-creds",
			err, natsbus.CredsPath(f.dataDir, f.role))
	case err != nil && creds != "":
		return nil, nil, fmt.Errorf("%w (credentials %s)", err, creds)
	case err != nil:
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("open JetStream: %w", err)
	}
	return nc, js, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
