package smb

import (
	"strconv"
	"strings"
)

// StatusName names the NTSTATUS values an analyst meets on SMB; others
// give "".
func StatusName(s uint32) string { return statusNames[s] }

var statusNames = map[uint32]string{
	0x00000000: "STATUS_SUCCESS",
	0x00000103: "STATUS_PENDING",
	0x80000005: "STATUS_BUFFER_OVERFLOW",
	0x80000006: "STATUS_NO_MORE_FILES",
	0xC0000016: "STATUS_MORE_PROCESSING_REQUIRED",
	0xC0000022: "STATUS_ACCESS_DENIED",
	0xC0000034: "STATUS_OBJECT_NAME_NOT_FOUND",
	0xC0000035: "STATUS_OBJECT_NAME_COLLISION",
	0xC000003A: "STATUS_OBJECT_PATH_NOT_FOUND",
	0xC0000043: "STATUS_SHARING_VIOLATION",
	0xC0000056: "STATUS_DELETE_PENDING",
	0xC000005E: "STATUS_NO_LOGON_SERVERS",
	0xC0000064: "STATUS_NO_SUCH_USER",
	0xC000006A: "STATUS_WRONG_PASSWORD",
	0xC000006D: "STATUS_LOGON_FAILURE",
	0xC000006E: "STATUS_ACCOUNT_RESTRICTION",
	0xC000006F: "STATUS_INVALID_LOGON_HOURS",
	0xC0000070: "STATUS_INVALID_WORKSTATION",
	0xC0000071: "STATUS_PASSWORD_EXPIRED",
	0xC0000072: "STATUS_ACCOUNT_DISABLED",
	0xC00000BA: "STATUS_FILE_IS_A_DIRECTORY",
	0xC00000BB: "STATUS_NOT_SUPPORTED",
	0xC00000CC: "STATUS_BAD_NETWORK_NAME",
	0xC0000101: "STATUS_DIRECTORY_NOT_EMPTY",
	0xC0000103: "STATUS_NOT_A_DIRECTORY",
	0xC000015B: "STATUS_LOGON_TYPE_NOT_GRANTED",
	0xC000018D: "STATUS_TRUSTED_RELATIONSHIP_FAILURE",
	0xC0000193: "STATUS_ACCOUNT_EXPIRED",
	0xC000019C: "STATUS_FS_DRIVER_REQUIRED",
	0xC0000224: "STATUS_PASSWORD_MUST_CHANGE",
	0xC0000234: "STATUS_ACCOUNT_LOCKED_OUT",
	0xC0000203: "STATUS_USER_SESSION_DELETED",
	0xC000035C: "STATUS_NETWORK_SESSION_EXPIRED",
}

// StatusHex spells an NTSTATUS as tshark does ("0xc000006d").
func StatusHex(s uint32) string {
	h := strconv.FormatUint(uint64(s), 16)
	return "0x" + strings.Repeat("0", 8-len(h)) + h
}

// accessNames name the bits of an access mask (MS-SMB2 2.2.13.1), in bit order.
var accessNames = [32]string{
	0: "read_data", 1: "write_data", 2: "append_data", 3: "read_ea", 4: "write_ea",
	5: "execute", 6: "delete_child", 7: "read_attributes", 8: "write_attributes",
	16: "delete", 17: "read_control", 18: "write_dac", 19: "write_owner", 20: "synchronize",
	24: "access_system_security", 25: "maximum_allowed",
	28: "generic_all", 29: "generic_execute", 30: "generic_write", 31: "generic_read",
}

// AccessNames lists the names of the bits set in an access mask.
func AccessNames(mask uint32) []string {
	var out []string
	for i, n := range accessNames {
		if n != "" && mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Disposition names a create disposition.
func Disposition(d uint32) string {
	if d < uint32(len(dispositions)) {
		return dispositions[d]
	}
	return strconv.FormatUint(uint64(d), 10)
}

var dispositions = [...]string{"supersede", "open", "create", "open_if", "overwrite", "overwrite_if"}

// CreateAction names what the server did on a create.
func CreateAction(a uint32) string {
	if a < uint32(len(createActions)) {
		return createActions[a]
	}
	return strconv.FormatUint(uint64(a), 10)
}

var createActions = [...]string{"superseded", "opened", "created", "overwritten"}
