package icmp

import "strconv"

// Type names after the IANA registries (ICMP Type Numbers, ICMPv6
// "type" Numbers), in snake case as event values.
var types4 = map[uint8]string{
	0: "echo_reply", 3: "destination_unreachable", 4: "source_quench", 5: "redirect",
	8: "echo_request", 9: "router_advertisement", 10: "router_solicitation", 11: "time_exceeded",
	12: "parameter_problem", 13: "timestamp", 14: "timestamp_reply", 15: "information_request",
	16: "information_reply", 17: "address_mask_request", 18: "address_mask_reply", 30: "traceroute",
	40: "photuris", 42: "extended_echo_request", 43: "extended_echo_reply",
}

var types6 = map[uint8]string{
	1: "destination_unreachable", 2: "packet_too_big", 3: "time_exceeded", 4: "parameter_problem",
	128: "echo_request", 129: "echo_reply", 130: "multicast_listener_query", 131: "multicast_listener_report",
	132: "multicast_listener_done", 133: "router_solicitation", 134: "router_advertisement",
	135: "neighbor_solicitation", 136: "neighbor_advertisement", 137: "redirect",
	138: "router_renumbering", 139: "node_information_query", 140: "node_information_response",
	141: "inverse_neighbor_discovery_solicitation", 142: "inverse_neighbor_discovery_advertisement",
	143: "multicast_listener_report_v2", 144: "home_agent_address_discovery_request",
	145: "home_agent_address_discovery_reply", 146: "mobile_prefix_solicitation",
	147: "mobile_prefix_advertisement", 151: "multicast_router_advertisement",
	152: "multicast_router_solicitation", 153: "multicast_router_termination", 155: "rpl_control",
	160: "extended_echo_request", 161: "extended_echo_reply",
}

// Code names of the types that have several.
var codes4 = map[uint8][]string{
	3: {"net_unreachable", "host_unreachable", "protocol_unreachable", "port_unreachable",
		"fragmentation_needed", "source_route_failed", "destination_network_unknown",
		"destination_host_unknown", "source_host_isolated", "network_administratively_prohibited",
		"host_administratively_prohibited", "network_unreachable_for_tos", "host_unreachable_for_tos",
		"communication_administratively_prohibited", "host_precedence_violation", "precedence_cutoff_in_effect"},
	5:  {"redirect_for_network", "redirect_for_host", "redirect_for_tos_and_network", "redirect_for_tos_and_host"},
	11: {"ttl_exceeded_in_transit", "fragment_reassembly_time_exceeded"},
	12: {"pointer_indicates_the_error", "missing_required_option", "bad_length"},
}

var codes6 = map[uint8][]string{
	1: {"no_route_to_destination", "communication_administratively_prohibited", "beyond_scope_of_source_address",
		"address_unreachable", "port_unreachable", "source_address_failed_policy", "reject_route_to_destination",
		"error_in_source_routing_header", "headers_too_long"},
	3: {"hop_limit_exceeded_in_transit", "fragment_reassembly_time_exceeded"},
	4: {"erroneous_header_field", "unrecognized_next_header", "unrecognized_ipv6_option",
		"ipv6_first_fragment_incomplete_header_chain"},
}

// TypeName names an ICMP (v6 false) or ICMPv6 type; an unassigned one is
// "type_N".
func TypeName(v6 bool, typ uint8) string {
	m := types4
	if v6 {
		m = types6
	}
	if n, ok := m[typ]; ok {
		return n
	}
	return "type_" + strconv.Itoa(int(typ))
}

// CodeName names the code of a type that has named codes ("" for the
// others, whose code is 0); an unassigned code is "code_N".
func CodeName(v6 bool, typ, code uint8) string {
	m := codes4
	if v6 {
		m = codes6
	}
	names, ok := m[typ]
	if !ok {
		if code == 0 {
			return ""
		}
		return "code_" + strconv.Itoa(int(code))
	}
	if int(code) < len(names) {
		return names[code]
	}
	return "code_" + strconv.Itoa(int(code))
}
