package main

import (
	"fmt"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// HostsConfig is the hosts: section, the DHCP lease table.
type HostsConfig struct {
	Disabled   bool `yaml:"disabled"`    // no table: events are not named from DHCP
	MaxEntries int  `yaml:"max_entries"` // leases held at once; 0: hosts.DefaultMaxEntries
}

func (c HostsConfig) validate() error {
	if c.MaxEntries < 0 {
		return fmt.Errorf("%d is negative", c.MaxEntries)
	}
	return nil
}

// table makes the lease table the workers share (nil when disabled).
func (c HostsConfig) table(b *budget.Budget) *hosts.Table {
	if c.Disabled {
		return nil
	}
	return hosts.New(hosts.Config{MaxEntries: c.MaxEntries}, b)
}
