package pipeline

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// An SMB3 session that turns to encryption (smb3-encrypted-share) shows
// what is visible and says the rest is not: the session setup's user
// (from tshark's NTLMSSP AUTHENTICATE), the tree connect to the share
// that requires encryption (encrypt_data), and one "encrypted" event for
// the session with as many transform messages each way as tshark shows
// frames it could not decode (its smb2 rows without a command), their
// bytes, the user, and the note. No command inside them is invented.
func TestSMB3EncryptedSessionVisible(t *testing.T) {
	needShared(t)
	const capture = "smb3-encrypted-share.pcap"
	toServer, toClient := 0, 0
	var shares []string
	for _, row := range readTSV(t, filepath.Join(sharedPcaps, "truth", capture+".smb2.tsv")) {
		switch {
		case row["smb2.cmd"] == "" && row["tcp.dstport"] == "445":
			toServer++
		case row["smb2.cmd"] == "":
			toClient++
		case row["smb2.cmd"] == "3" && row["smb2.flags.response"] == "0":
			shares = append(shares, row["smb2.tree"])
		}
	}
	var user string
	for _, row := range readTSV(t, filepath.Join(sharedPcaps, "truth", capture+".ntlmssp.tsv")) {
		if row["ntlmssp.messagetype"] == "0x00000003" {
			user = row["ntlmssp.auth.domain"] + `\` + row["ntlmssp.auth.username"]
		}
	}
	if toServer == 0 || toClient == 0 || len(shares) != 2 || user == `\` {
		t.Fatalf("truth: %d/%d transform frames, shares %v, user %q", toServer, toClient, shares, user)
	}
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
	var encrypted []map[string]any
	var sessionID string
	var gotShares []string
	for _, ev := range out.dataset("packetsleuth.smb") {
		if got := str(ev, "user.domain") + `\` + str(ev, "user.name"); got != user {
			t.Errorf("%s event: user %q, tshark %q", str(ev, "packetsleuth.smb.action"), got, user)
		}
		switch str(ev, "packetsleuth.smb.action") {
		case "session_setup":
			sessionID = str(ev, "packetsleuth.smb.session_id")
		case "tree_connect":
			gotShares = append(gotShares, str(ev, "packetsleuth.smb.share"))
			if strings.HasSuffix(str(ev, "packetsleuth.smb.share"), `\encrypted`) != (field(ev, "packetsleuth.smb.encrypt_data") == true) {
				t.Errorf("tree %s: encrypt_data %v", str(ev, "packetsleuth.smb.share"), field(ev, "packetsleuth.smb.encrypt_data"))
			}
		case "encrypted":
			encrypted = append(encrypted, ev)
		case "file":
			t.Errorf("a file event from inside encrypted messages: %v", ev)
		}
	}
	slices.Sort(shares)
	slices.Sort(gotShares)
	if !slices.Equal(shares, gotShares) {
		t.Errorf("tree connects %v, tshark %v", gotShares, shares)
	}
	if len(encrypted) != 1 {
		t.Fatalf("%d encrypted events", len(encrypted))
	}
	ev := encrypted[0]
	x := "packetsleuth.smb."
	notes, _ := field(ev, "packetsleuth.notes").([]any)
	if int(num(ev, x+"encrypted_messages_to_server")) != toServer || int(num(ev, x+"encrypted_messages_to_client")) != toClient ||
		num(ev, x+"encrypted_bytes") < int64(52*(toServer+toClient)) || str(ev, x+"session_id") != sessionID ||
		len(notes) != 1 || !strings.Contains(notes[0].(string), "not visible") {
		t.Errorf("encrypted event %v; tshark %d/%d transform frames, session %s", ev, toServer, toClient, sessionID)
	}
}
