// Package rules loads, validates, compiles and evaluates PacketSleuth's YAML
// detection rules, and runs their tests.
//
// A rule file holds `lists` (named sets of strings, IPs/CIDRs, domains or
// ports), `macros` (named condition fragments), `rules` and `overrides`
// (local changes to rules of earlier files). A rule's condition is an
// expr-lang expression over the ECS names of schemas.Event
// (`dns.question.name`, `source.ip`, `packetsleuth.flow.state`; the event
// time is `timestamp`, since expr cannot spell `@timestamp`). It is
// type-checked at load time, so a misspelt field is a load error with
// file:line:col, rule id and field. `x in list` matches by the list's type
// like in_list (CIDRs of an ip list, subdomains of a domain list). Helpers: in_list(name, v),
// cidr_match(ip, cidr...), is_private(ip), entropy(s), registered_domain(s),
// label_count(s), max_label_len(s), is_set(t), url_decode(s),
// intel_match([type]), and expr's `matches`. None does I/O; `now()` is
// disabled so replay gives the same alerts as live capture.
//
// Severity: low/medium/high/critical map to 21/47/73/99, used for
// event.severity and as the default event.risk_score (Elastic's convention).
//
// Evaluation: one Evaluator per worker (NewEvaluator), rules indexed by the
// event.dataset their condition pins. Thresholds (count, distinct, sum,
// avg; `gte: N` fires at N, `gt: N` above it; `lt`/`lte` judge a window
// when it closes, below.go)
// slide on event time; state is bounded per rule (LRU plus expiry by event
// time). With several workers pass a SharedState, because the sensor shards
// by 5-tuple and one group's events reach several workers. Suppression
// drops repeated alerts by key for a duration of event time.
//
// Sequences: a rule with `sequence:` instead of a condition matches
// ordered steps within a window of event time, tied by `by` fields (which
// may be lists, such as dns.resolved_ip); its state is bounded like a
// threshold's and shared across workers the same way (sequence.go). A
// rule with `absence:` alerts when a group that matched goes quiet for a
// time of event time (absence.go).
//
// Explanation: an alert's ECS message is the rule's `output:` template
// (Falco style: %source.ip, %packetsleuth.alert.count; %% for a percent
// sign; fields checked at load) rendered over the alert, values escaped
// and cut; packetsleuth.alert.matched lists the alternatives of the
// condition's top OR that held; a distinct threshold lists the values it
// counted in packetsleuth.alert.members (sorted, at most 20).
//
// Tests: a rule's `tests:` feed events (or a capture, through an injected
// ReplayFunc, enriched by the case's `intel:` and `home_net:`) and compare
// alert counts; RunTests prints go-test style, JSON or JUnit results for
// `sensor rules test` (a failed case lists the alerts it got), List prints
// `sensor rules list`, and WriteErrors prints validation errors.
package rules
