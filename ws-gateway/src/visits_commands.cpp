// The visiting programme's messages: the core's visits::Service reads and answers
// them; here only the session's side (who is asking) and the reply's frame.
#include "server_impl.hpp"

namespace anxin::gateway {

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::VisitsCommand& a) {
  auto r = visits.handle(*s.who, s.worker, a);
  if (!r) return error_reply(s, req, r.error());
  return reply(s, req, proto::VisitsReply{std::move(r.value())});
}

}  // namespace anxin::gateway
