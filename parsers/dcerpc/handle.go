package dcerpc

import (
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

var pduNames = [...]string{
	ptBind: "bind", ptBindAck: "bind_ack", ptAlter: "alter_context", ptAlterResp: "alter_context_resp",
	ptAuth3: "auth3", ptBindNak: "bind_nak",
}

var resultNames = [...]string{"acceptance", "user_rejection", "provider_rejection", "negotiate_ack"}

// pdu handles one PDU; p holds what want asked for (the whole PDU, or the
// header of a request or response).
func (c *Conn) pdu(d parsers.Dir, h header, p []byte, ts time.Time) error {
	switch h.ptype {
	case ptBind, ptAlter:
		return c.bind(d, h, p, ts)
	case ptBindAck, ptAlterResp:
		return c.bindAck(d, h, p, ts)
	case ptBindNak:
		if call := c.findBind(h.callID); call != nil {
			call.Rejected, call.Answered, call.End = true, true, ts
			if len(p) >= headerLen+2 {
				call.NakReason = h.order.Uint16(p[headerLen:])
			}
			c.finish(call)
		}
	case ptAuth3:
		c.auth(d, h, p, ts)
	case ptRequest:
		return c.request(h, p, ts)
	case ptResponse, ptFault:
		return c.response(d, h, p, ts)
	}
	return nil
}

// auth hands the authentication trailer's value to OnAuth and returns the
// trailer's type and level.
func (c *Conn) auth(d parsers.Dir, h header, p []byte, ts time.Time) (typ, level uint8) {
	if h.authLen == 0 || len(p) < h.fragLen {
		return 0, 0
	}
	t := p[h.fragLen-h.authLen-authTrailer:]
	if c.OnAuth != nil {
		c.OnAuth(&Auth{PDU: pduNames[h.ptype], Dir: d, Type: t[0], Level: t[1], Value: t[authTrailer : h.authLen+authTrailer], Time: ts})
	}
	return t[0], t[1]
}

// bind reads a bind or alter_context: max_xmit_frag, max_recv_frag,
// assoc_group_id, then the presentation context list (C706 §12.6.3.1).
func (c *Conn) bind(d parsers.Dir, h header, p []byte, ts time.Time) error {
	kind := KindBind
	if h.ptype == ptAlter {
		kind = KindAlter
	}
	end := h.fragLen
	if h.authLen > 0 {
		end -= h.authLen + authTrailer
	}
	if end < headerLen+12 {
		return fmt.Errorf("%s of %d bytes", kind, h.fragLen)
	}
	call := c.open(kind, h.callID, ts)
	call.AuthType, call.AuthLevel = c.auth(d, h, p, ts)
	n := int(p[headerLen+8])
	off := headerLen + 12
	for i := 0; i < n; i++ {
		if off+4+20 > end {
			call.note(fmt.Sprintf("%d presentation contexts announced, %d fit", n, i))
			break
		}
		id, ntrans := h.order.Uint16(p[off:]), int(p[off+2])
		iface := uuid(p[off+4:], h.order)
		ver := fmt.Sprintf("%d.%d", h.order.Uint16(p[off+20:]), h.order.Uint16(p[off+22:]))
		if len(call.Contexts) < maxOffered {
			call.Contexts = append(call.Contexts, Context{ID: id, Interface: iface, Name: InterfaceName(iface), Version: ver})
		}
		off += 24 + 20*ntrans
	}
	return nil
}

// bindAck reads a bind_ack or alter_context_resp: after the fragment
// sizes and assoc_group_id, a secondary address (bind_ack only carries a
// meaningful one), padding to 4, then one result per offered context.
func (c *Conn) bindAck(d parsers.Dir, h header, p []byte, ts time.Time) error {
	c.auth(d, h, p, ts)
	call := c.findBind(h.callID)
	if call == nil {
		return nil // its bind was not seen
	}
	call.Answered, call.End = true, ts
	defer c.finish(call)
	end := h.fragLen
	if h.authLen > 0 {
		end -= h.authLen + authTrailer
	}
	off := headerLen + 8
	if off+2 > end {
		call.note("answer too short for its results")
		return nil
	}
	off += 2 + int(h.order.Uint16(p[off:]))
	off = (off + 3) &^ 3
	if off+4 > end {
		call.note("answer too short for its results")
		return nil
	}
	n := int(p[off])
	off += 4
	for i := 0; i < n && off+24 <= end; i, off = i+1, off+24 {
		r := int(h.order.Uint16(p[off:]))
		if i >= len(call.Contexts) {
			continue
		}
		ctx := &call.Contexts[i]
		ctx.Result = fmt.Sprint(r)
		if r < len(resultNames) {
			ctx.Result = resultNames[r]
		}
		if r == 0 && (len(c.ctx) < maxContexts || c.ctx[ctx.ID] != ctxInfo{}) {
			c.ctx[ctx.ID] = ctxInfo{iface: ctx.Interface, name: ctx.Name, version: ctx.Version}
		}
	}
	return nil
}

// request reads a request fragment's header: the first fragment opens the
// call, the others add to it.
func (c *Conn) request(h header, p []byte, ts time.Time) error {
	if len(p) < reqHeaderLen {
		return fmt.Errorf("request of %d bytes", h.fragLen)
	}
	stub := int64(h.fragLen - len(p))
	if h.authLen > 0 {
		stub -= int64(h.authLen + authTrailer)
	}
	var call *Call
	if h.flags&flagFirstFrag == 0 {
		call = c.findRequest(h.callID, true)
	}
	if call == nil {
		call = c.open(KindRequest, h.callID, ts)
		call.ContextID, call.Opnum = h.order.Uint16(p[20:]), h.order.Uint16(p[22:])
		if ci, ok := c.ctx[call.ContextID]; ok {
			call.Interface, call.InterfaceName, call.InterfaceVersion = ci.iface, ci.name, ci.version
			call.Operation = OperationName(ci.iface, call.Opnum)
		}
		if h.flags&flagFirstFrag == 0 {
			call.note("first request fragment not seen")
		}
	}
	call.RequestFrags++
	call.RequestBytes += max(stub, 0)
	call.reqDone = h.flags&flagLastFrag != 0
	return nil
}

// response reads a response or fault fragment; the last one ends the call.
func (c *Conn) response(d parsers.Dir, h header, p []byte, ts time.Time) error {
	if len(p) < reqHeaderLen {
		return fmt.Errorf("response of %d bytes", h.fragLen)
	}
	call := c.findRequest(h.callID, false)
	if call == nil {
		// Its request was not seen (a connection picked up mid-call): the
		// call is reported with what the answer shows.
		call = c.open(KindRequest, h.callID, ts)
		call.ContextID = h.order.Uint16(p[20:])
		if ci, ok := c.ctx[call.ContextID]; ok {
			call.Interface, call.InterfaceName, call.InterfaceVersion = ci.iface, ci.name, ci.version
		}
		call.reqDone = true
		call.note("request not seen")
	}
	s := &c.s[d]
	call.ResponseFrags++
	stub := h.fragLen - reqHeaderLen
	if h.authLen > 0 {
		stub -= h.authLen + authTrailer
	}
	call.ResponseBytes += int64(max(stub, 0))
	if h.ptype == ptFault {
		call.Fault = true
		if len(p) >= reqHeaderLen+4 {
			call.FaultStatus = h.order.Uint32(p[reqHeaderLen:])
		}
	}
	if h.ptype == ptResponse && len(p) == h.fragLen && stub > 0 {
		c.addStub(d, p[reqHeaderLen:reqHeaderLen+stub], call)
	}
	if h.flags&flagLastFrag == 0 {
		return nil
	}
	call.Answered, call.End = true, ts
	if s.stubOn {
		call.Endpoints = parseMapAnswer(s.stub.B, h.order)
		s.stub.Reset(c.acct, 0)
		s.stubOn = false
	}
	c.finish(call)
	return nil
}

// addStub adds b to the endpoint mapper stub being reassembled, up to
// maxStub, paid on the budget.
func (c *Conn) addStub(d parsers.Dir, b []byte, call *Call) {
	s := &c.s[d]
	if !s.stubOn {
		s.stubOn = true
		s.stub.Reset(c.acct, 0)
	}
	if len(s.stub.B)+len(b) > maxStub {
		call.note("endpoint mapper answer longer than the bound read: endpoints after it not seen")
		return
	}
	if !s.stub.Append(c.acct, b, maxStub) {
		call.note("memory budget spent: endpoint mapper answer not read")
		c.Limited = true
		if c.OnLimit != nil {
			c.OnLimit("memory budget spent: DCE/RPC endpoint mapper answer not read")
		}
	}
}
