//go:build !linux

package source

import (
	"errors"

	"github.com/gopacket/gopacket/pcap"
)

const afpacketAvailable = false

func (l *Live) openAFPacket() error {
	return errors.New("AF_PACKET is only available on Linux")
}

func isTimeout(err error) bool { return errors.Is(err, pcap.NextErrorTimeoutExpired) }
