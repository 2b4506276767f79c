package dcerpc

// Interface names and operation names of the well-known MSRPC interfaces,
// from Microsoft's protocol specifications (MS-DRSR, MS-SAMR, MS-LSAD,
// MS-LSAT, MS-SCMR, MS-TSCH, MS-EFSR, MS-RRP, MS-NRPC, MS-DCOM, MS-WMI,
// MS-RPCE for the endpoint mapper, MS-SRVS, MS-WKST). Opnums not listed
// here are reported by number only.
var interfaces = map[string]ifaceInfo{
	"e3514235-4b06-11d1-ab04-00c04fc2dcd2": {"drsuapi", map[uint16]string{
		0: "DRSBind", 1: "DRSUnbind", 2: "DRSReplicaSync", 3: "DRSGetNCChanges", 4: "DRSUpdateRefs",
		5: "DRSReplicaAdd", 6: "DRSReplicaDel", 7: "DRSReplicaModify", 8: "DRSVerifyNames",
		9: "DRSGetMemberships", 10: "DRSInterDomainMove", 11: "DRSGetNT4ChangeLog", 12: "DRSCrackNames",
		13: "DRSWriteSPN", 14: "DRSRemoveDsServer", 15: "DRSRemoveDsDomain", 16: "DRSDomainControllerInfo",
		17: "DRSAddEntry", 18: "DRSExecuteKCC", 19: "DRSGetReplInfo", 20: "DRSAddSidHistory",
		21: "DRSGetMemberships2", 22: "DRSReplicaVerifyObjects", 23: "DRSGetObjectExistence",
		24: "DRSQuerySitesByCost",
	}},
	"12345778-1234-abcd-ef00-0123456789ac": {"samr", map[uint16]string{
		0: "SamrConnect", 1: "SamrCloseHandle", 2: "SamrSetSecurityObject", 3: "SamrQuerySecurityObject",
		5: "SamrLookupDomainInSamServer", 6: "SamrEnumerateDomainsInSamServer", 7: "SamrOpenDomain",
		8: "SamrQueryInformationDomain", 9: "SamrSetInformationDomain", 10: "SamrCreateGroupInDomain",
		11: "SamrEnumerateGroupsInDomain", 12: "SamrCreateUserInDomain", 13: "SamrEnumerateUsersInDomain",
		14: "SamrCreateAliasInDomain", 15: "SamrEnumerateAliasesInDomain", 16: "SamrGetAliasMembership",
		17: "SamrLookupNamesInDomain", 18: "SamrLookupIdsInDomain", 19: "SamrOpenGroup",
		20: "SamrQueryInformationGroup", 21: "SamrSetInformationGroup", 22: "SamrAddMemberToGroup",
		23: "SamrDeleteGroup", 24: "SamrRemoveMemberFromGroup", 25: "SamrGetMembersInGroup",
		26: "SamrSetMemberAttributesOfGroup", 27: "SamrOpenAlias", 28: "SamrQueryInformationAlias",
		29: "SamrSetInformationAlias", 30: "SamrDeleteAlias", 31: "SamrAddMemberToAlias",
		32: "SamrRemoveMemberFromAlias", 33: "SamrGetMembersInAlias", 34: "SamrOpenUser", 35: "SamrDeleteUser",
		36: "SamrQueryInformationUser", 37: "SamrSetInformationUser", 38: "SamrChangePasswordUser",
		39: "SamrGetGroupsForUser", 40: "SamrQueryDisplayInformation", 41: "SamrGetDisplayEnumerationIndex",
		44: "SamrGetUserDomainPasswordInformation", 45: "SamrRemoveMemberFromForeignDomain",
		46: "SamrQueryInformationDomain2", 47: "SamrQueryInformationUser2", 48: "SamrQueryDisplayInformation2",
		49: "SamrGetDisplayEnumerationIndex2", 50: "SamrCreateUser2InDomain", 51: "SamrQueryDisplayInformation3",
		52: "SamrAddMultipleMembersToAlias", 53: "SamrRemoveMultipleMembersFromAlias",
		54: "SamrOemChangePasswordUser2", 55: "SamrUnicodeChangePasswordUser2",
		56: "SamrGetDomainPasswordInformation", 57: "SamrConnect2", 58: "SamrSetInformationUser2",
		62: "SamrConnect4", 64: "SamrConnect5", 65: "SamrRidToSid", 66: "SamrSetDSRMPassword",
		67: "SamrValidatePassword",
	}},
	"12345778-1234-abcd-ef00-0123456789ab": {"lsarpc", map[uint16]string{
		0: "LsarClose", 2: "LsarEnumeratePrivileges", 3: "LsarQuerySecurityObject", 4: "LsarSetSecurityObject",
		6: "LsarOpenPolicy", 7: "LsarQueryInformationPolicy", 8: "LsarSetInformationPolicy",
		10: "LsarCreateAccount", 11: "LsarEnumerateAccounts", 12: "LsarCreateTrustedDomain",
		13: "LsarEnumerateTrustedDomains", 14: "LsarLookupNames", 15: "LsarLookupSids", 16: "LsarCreateSecret",
		17: "LsarOpenAccount", 28: "LsarOpenSecret", 29: "LsarSetSecret", 30: "LsarQuerySecret",
		31: "LsarLookupPrivilegeValue", 32: "LsarLookupPrivilegeName", 33: "LsarLookupPrivilegeDisplayName",
		34: "LsarDeleteObject", 35: "LsarEnumerateAccountsWithUserRight", 36: "LsarEnumerateAccountRights",
		37: "LsarAddAccountRights", 38: "LsarRemoveAccountRights", 42: "LsarStorePrivateData",
		43: "LsarRetrievePrivateData", 44: "LsarOpenPolicy2", 45: "LsarGetUserName",
		46: "LsarQueryInformationPolicy2", 57: "LsarLookupSids2", 58: "LsarLookupNames2",
		68: "LsarLookupNames3", 76: "LsarLookupSids3", 77: "LsarLookupNames4",
	}},
	"367abb81-9844-35f1-ad32-98f038001003": {"svcctl", map[uint16]string{
		0: "RCloseServiceHandle", 1: "RControlService", 2: "RDeleteService", 3: "RLockServiceDatabase",
		4: "RQueryServiceObjectSecurity", 5: "RSetServiceObjectSecurity", 6: "RQueryServiceStatus",
		7: "RSetServiceStatus", 8: "RUnlockServiceDatabase", 9: "RNotifyBootConfigStatus",
		11: "RChangeServiceConfigW", 12: "RCreateServiceW", 13: "REnumDependentServicesW",
		14: "REnumServicesStatusW", 15: "ROpenSCManagerW", 16: "ROpenServiceW", 17: "RQueryServiceConfigW",
		18: "RQueryServiceLockStatusW", 19: "RStartServiceW", 20: "RGetServiceDisplayNameW",
		21: "RGetServiceKeyNameW", 23: "RChangeServiceConfigA", 24: "RCreateServiceA",
		27: "ROpenSCManagerA", 28: "ROpenServiceA", 31: "RStartServiceA", 36: "RChangeServiceConfig2A",
		37: "RChangeServiceConfig2W", 39: "RQueryServiceConfig2W", 40: "RQueryServiceStatusEx",
		42: "REnumServicesStatusExW", 44: "RCreateServiceWOW64A", 45: "RCreateServiceWOW64W",
		60: "RCreateWowService",
	}},
	"1ff70682-0a51-30e8-076d-740be8cee98b": {"atsvc", map[uint16]string{
		0: "NetrJobAdd", 1: "NetrJobDel", 2: "NetrJobEnum", 3: "NetrJobGetInfo",
	}},
	"86d35949-83c9-4044-b424-db363231fd0c": {"ITaskSchedulerService", map[uint16]string{
		0: "SchRpcHighestVersion", 1: "SchRpcRegisterTask", 2: "SchRpcRetrieveTask", 3: "SchRpcCreateFolder",
		4: "SchRpcSetSecurity", 5: "SchRpcGetSecurity", 6: "SchRpcEnumFolders", 7: "SchRpcEnumTasks",
		8: "SchRpcEnumInstances", 9: "SchRpcGetInstanceInfo", 10: "SchRpcStopInstance", 11: "SchRpcStop",
		12: "SchRpcRun", 13: "SchRpcDelete", 14: "SchRpcRename", 15: "SchRpcScheduledRuntimes",
		16: "SchRpcGetLastRunInfo", 17: "SchRpcGetTaskInfo", 18: "SchRpcGetNumberOfMissedRuns",
		19: "SchRpcEnableTask",
	}},
	// EFSRPC is reachable by two UUIDs: efsrpc (its own pipe) and the
	// lsarpc pipe's alias that PetitPotam first used.
	"df1941c5-fe89-4e79-bf10-463657acf44d": {"efsrpc", efsOps},
	"c681d488-d850-11d0-8c52-00c04fd90f7e": {"efsrpc", efsOps},
	"338cd001-2244-31f1-aaaa-900038001003": {"winreg", map[uint16]string{
		0: "OpenClassesRoot", 1: "OpenCurrentUser", 2: "OpenLocalMachine", 3: "OpenPerformanceData",
		4: "OpenUsers", 5: "BaseRegCloseKey", 6: "BaseRegCreateKey", 7: "BaseRegDeleteKey",
		8: "BaseRegDeleteValue", 9: "BaseRegEnumKey", 10: "BaseRegEnumValue", 11: "BaseRegFlushKey",
		12: "BaseRegGetKeySecurity", 15: "BaseRegOpenKey", 16: "BaseRegQueryInfoKey", 17: "BaseRegQueryValue",
		20: "BaseRegSaveKey", 21: "BaseRegSetKeySecurity", 22: "BaseRegSetValue", 24: "BaseInitiateSystemShutdown",
		26: "BaseRegGetVersion", 27: "OpenCurrentConfig", 31: "BaseRegSaveKeyEx", 35: "BaseRegDeleteKeyEx",
	}},
	"12345678-1234-abcd-ef00-01234567cffb": {"netlogon", map[uint16]string{
		2: "NetrLogonSamLogon", 3: "NetrLogonSamLogoff", 4: "NetrServerReqChallenge",
		5: "NetrServerAuthenticate", 6: "NetrServerPasswordSet", 15: "NetrServerAuthenticate2",
		21: "NetrLogonGetCapabilities", 26: "NetrServerAuthenticate3", 28: "NetrLogonGetDomainInfo",
		29: "NetrServerPasswordGet", 30: "NetrServerPasswordSet2", 34: "DsrGetDcNameEx2",
		39: "NetrLogonSamLogonEx", 40: "DsrEnumerateDomainTrusts", 42: "NetrServerTrustPasswordsGet",
		45: "NetrLogonSamLogonWithFlags", 46: "NetrServerGetTrustInfo",
	}},
	"e1af8308-5d1f-11c9-91a4-08002b14a0fa": {"epm", map[uint16]string{
		0: "ept_insert", 1: "ept_delete", 2: "ept_lookup", 3: "ept_map", 4: "ept_lookup_handle_free",
		5: "ept_inq_object", 6: "ept_mgmt_delete",
	}},
	"000001a0-0000-0000-c000-000000000046": {"IRemoteSCMActivator", map[uint16]string{
		3: "RemoteGetClassObject", 4: "RemoteCreateInstance",
	}},
	"4d9f4ab8-7d1c-11cf-861e-0020af6e7c57": {"IActivation", map[uint16]string{0: "RemoteActivation"}},
	"99fcfec4-5260-101b-bbcb-00aa0021347a": {"IObjectExporter", map[uint16]string{
		0: "ResolveOxid", 1: "SimplePing", 2: "ComplexPing", 3: "ServerAlive", 4: "ResolveOxid2", 5: "ServerAlive2",
	}},
	"00000143-0000-0000-c000-000000000046": {"IRemUnknown2", nil},
	"00000131-0000-0000-c000-000000000046": {"IRemUnknown", nil},
	"d4781cd6-e5d3-44df-ad94-930efe48a887": {"IWbemLoginClientID", nil},
	"f309ad18-d86a-11d0-a075-00c04fb68820": {"IWbemLevel1Login", map[uint16]string{
		3: "EstablishPosition", 4: "RequestChallenge", 5: "WBEMLogin", 6: "NTLMLogin",
	}},
	"9556dc99-828c-11cf-a37e-00aa003240c7": {"IWbemServices", map[uint16]string{
		3: "OpenNamespace", 6: "GetObject", 20: "ExecQuery", 21: "ExecQueryAsync", 22: "ExecNotificationQuery",
		24: "ExecMethod", 25: "ExecMethodAsync",
	}},
	"4b324fc8-1670-01d3-1278-5a47bf6ee188": {"srvsvc", map[uint16]string{
		15: "NetrShareEnum", 16: "NetrShareGetInfo", 21: "NetrServerGetInfo", 28: "NetrRemoteTOD",
		12: "NetrSessionEnum", 9: "NetrFileEnum",
	}},
	"6bffd098-a112-3610-9833-46c3f87e345a": {"wkssvc", map[uint16]string{
		0: "NetrWkstaGetInfo", 2: "NetrWkstaUserEnum", 22: "NetrJoinDomain2", 23: "NetrUnjoinDomain2",
	}},
	"a4f1db00-ca47-1067-b31f-00dd010662da": {"exchange_mapi", nil},
	"3919286a-b10c-11d0-9ba8-00c04fd92ef5": {"dssetup", nil},
}

var efsOps = map[uint16]string{
	0: "EfsRpcOpenFileRaw", 1: "EfsRpcReadFileRaw", 2: "EfsRpcWriteFileRaw", 3: "EfsRpcCloseRaw",
	4: "EfsRpcEncryptFileSrv", 5: "EfsRpcDecryptFileSrv", 6: "EfsRpcQueryUsersOnFile",
	7: "EfsRpcQueryRecoveryAgents", 8: "EfsRpcRemoveUsersFromFile", 9: "EfsRpcAddUsersToFile",
	11: "EfsRpcNotSupported", 12: "EfsRpcFileKeyInfo", 13: "EfsRpcDuplicateEncryptionInfoFile",
	15: "EfsRpcAddUsersToFileEx", 16: "EfsRpcFileKeyInfoEx", 18: "EfsRpcGetEncryptedFileMetadata",
	19: "EfsRpcSetEncryptedFileMetadata", 20: "EfsRpcFlushEfsCache", 21: "EfsRpcEncryptFileExSrv",
	22: "EfsRpcQueryProtectors",
}

type ifaceInfo struct {
	name string
	ops  map[uint16]string
}

// InterfaceName is the short name of a well-known interface UUID ("" when
// it is not one).
func InterfaceName(uuid string) string { return interfaces[uuid].name }

// OperationName is the name of operation opnum of the interface uuid (""
// when it is not known).
func OperationName(uuid string, opnum uint16) string { return interfaces[uuid].ops[opnum] }
