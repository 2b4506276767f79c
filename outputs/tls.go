package outputs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ClientTLS is the client side of a TLS connection as the sinks and
// notifiers spell it in YAML: the CAs to trust, an optional client
// certificate (mTLS), the name to verify and the opt-in to skip
// verification. A sink whose keys match may use it (or an alias of it)
// as its own config type; one with other keys maps its fields onto it.
type ClientTLS struct {
	CA                 string `yaml:"ca"`   // PEM file with the CAs to trust (default: system roots)
	Cert               string `yaml:"cert"` // PEM client certificate (mTLS); needs Key
	Key                string `yaml:"key"`  // PEM client key (mTLS); needs Cert
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Config reads the PEM files and returns the client configuration
// (TLS 1.2 at least). Every error names the option, prefix first: "tls."
// for keys under a tls: block gives "tls.ca: ...", "outputs.syslog: "
// gives "outputs.syslog: ca: ...". All problems are reported, joined, not
// only the first.
func (c ClientTLS) Config(prefix string) (*tls.Config, error) {
	name := func(key string) string { return prefix + key }
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in
	var errs []error
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", name("ca"), err))
		default:
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				errs = append(errs, fmt.Errorf("%s: %s holds no PEM certificate", name("ca"), c.CA))
			}
			cfg.RootCAs = pool
		}
	}
	switch {
	case c.Cert != "" && c.Key == "":
		errs = append(errs, fmt.Errorf("%s: needs %s (they go together)", name("cert"), "key"))
	case c.Cert == "" && c.Key != "":
		errs = append(errs, fmt.Errorf("%s: needs %s (they go together)", name("key"), "cert"))
	case c.Cert != "":
		kp, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name("cert"), err))
		} else {
			cfg.Certificates = []tls.Certificate{kp}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}
