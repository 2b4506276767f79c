package main

import (
	"fmt"
	"net/netip"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// HostsConfig is the hosts: section, the DHCP lease table.
type HostsConfig struct {
	Disabled   bool     `yaml:"disabled"`    // no table: events are not named from DHCP
	MaxEntries int      `yaml:"max_entries"` // leases held at once; 0: hosts.DefaultMaxEntries
	Servers    []string `yaml:"servers"`     // addresses or CIDRs of the DHCP servers and relays whose answers count; empty: any
	// MaxLearnRate bounds the DHCP messages learnt from a second of packet
	// time; 0: hosts.DefaultMaxLearnRate.
	MaxLearnRate int `yaml:"max_learn_rate"`
}

// validate returns the key at fault and what is wrong with it.
func (c HostsConfig) validate() (key string, err error) {
	if c.MaxEntries < 0 {
		return "max_entries", fmt.Errorf("%d is negative", c.MaxEntries)
	}
	if c.MaxLearnRate < 0 {
		return "max_learn_rate", fmt.Errorf("%d is negative", c.MaxLearnRate)
	}
	if _, err := c.servers(); err != nil {
		return "servers", err
	}
	return "", nil
}

// servers parses Servers: an address is a /32 (/128).
func (c HostsConfig) servers() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Servers {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// table makes the lease table the workers share (nil when disabled).
func (c HostsConfig) table(b *budget.Budget) *hosts.Table {
	if c.Disabled {
		return nil
	}
	servers, _ := c.servers() // checked by validate
	return hosts.New(hosts.Config{MaxEntries: c.MaxEntries, Servers: servers, MaxLearnRate: c.MaxLearnRate}, b)
}
