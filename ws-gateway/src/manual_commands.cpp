// Manual incidents and history (issue 14, items 3 and 4; docs/protocol.md
// "open_incident", "history", "incident_record", "reopen_incident"). open_incident
// is applied by the dispatcher like any command. The other three need the file:
// history and incident_record are read on the reader thread (read_then_reply) and
// named on the service thread; reopen_incident reads the closing record there, then
// applies it on the service thread and answers once that is durable.
#include "anxin/core/history.hpp"
#include "server_impl.hpp"

namespace anxin::gateway {

namespace {
constexpr size_t kMaxHistoryElders = 1000;  // a text that finds more is too broad to mean one elder
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::OpenIncident& a) {
  auto r = dispatcher.open_manual(*s.who, a.in);
  if (!r) return error_reply(s, req, r.error());
  return reply(s, req, proto::ManualIncident{r.value()});
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::HistoryQuery& q) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles read the history"});
  std::optional<std::vector<ElderId>> elders;
  if (!q.elder_text.empty()) {
    // As find_elders finds them, the callers' own records too (their number is their name).
    const ElderTable& table = dispatcher.elder_table();
    elders.emplace();
    table.rows_by_id([&](ElderTable::Row r) {
      if (table.matches(r, q.elder_text)) elders->push_back(table.id(r));
      return elders->size() <= kMaxHistoryElders;
    });
    if (elders->size() > kMaxHistoryElders)
      return error_reply(s, req, {ErrorCode::bad_field, "'elder' finds more than 1000 elders: say more"});
  }
  read_then_reply(s, req, [this, q, elders = std::move(elders)]() -> Finish {
    proto::HistoryPage page = history::search(store, q, elders ? &*elders : nullptr);
    return [this, page = std::move(page)]() mutable -> proto::ServerBody {
      for (auto& row : page.rows)
        if (const auto e = dispatcher.elder(row.elder)) row.elder_name = e->name;
      return std::move(page);
    };
  });
  return {};
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::IncidentRecordQuery& q) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles read records"});
  read_then_reply(s, req, [this, id = q.incident]() -> Finish {
    history::RecordParts parts = history::read_record(store, id);
    return [this, id, parts = std::move(parts)]() mutable -> proto::ServerBody {
      proto::IncidentRecord rec;
      if (const Incident* live = dispatcher.incident(id))
        rec.incident = *live;  // open: as it stands now
      else if (parts.closing)
        rec.incident = std::move(*parts.closing);
      else
        return proto::ErrorReply{{ErrorCode::unknown_incident, "no incident " + std::to_string(id)}};
      rec.elder = card_for(rec.incident.elder, dispatcher.today());
      rec.alerts = std::move(parts.alerts);
      for (auto& v : parts.reports) {
        const Worker* w = dispatcher.worker(v.worker);
        rec.reports.push_back({std::move(v), w ? w->name : ""});
      }
      if (rec.incident.state == IncidentState::resolved)
        rec.reopen_until_ms = rec.incident.resolved_ms + dispatcher.config().reopen_within_ms;
      return rec;
    };
  });
  return {};
}

Outbound Server::Impl::handle(Session& s, const std::string& req, const proto::ReopenIncident& a) {
  if (s.who->role != Role::console) return error_reply(s, req, {ErrorCode::forbidden, "only consoles reopen incidents"});
  if (dispatcher.incident(a.incident))
    return error_reply(s, req, {ErrorCode::bad_state, "incident " + std::to_string(a.incident) + " is open already"});
  // The closing record is read once all before this command is durable, then applied
  // back here; the reply goes out once the reopening is durable.
  const Principal who = *s.who;
  const std::uint64_t session = s.id;
  store.submit({}, [this, who, session, req, a]() {
    reader.post([this, who, session, req, a] {
      std::optional<Incident> closing;
      std::optional<std::string> failed;
      try {
        closing = history::read_record(store, a.incident).closing;
      } catch (const std::exception& e) {
        failed = e.what();
      }
      std::lock_guard lock(finished_reads_mu);
      finished_reads.push_back([this, who, session, req, a, closing = std::move(closing), failed]() mutable {
        auto answer_with = [&](proto::ServerBody body) {
          if (std::holds_alternative<proto::ErrorReply>(body)) ++errors_sent;
          return Outbound{session, 0, frame_of({req, std::move(body)})};
        };
        if (failed) {
          lwsl_err("reopen_incident %lld: %s\n", static_cast<long long>(a.incident), failed->c_str());
          return commit_and_send({answer_with(proto::ErrorReply{{ErrorCode::internal, "the server could not read that"}})});
        }
        if (storage_full) return commit_and_send({answer_with(proto::ErrorReply{refused_for_full_disk()})});
        if (!closing)
          return commit_and_send({answer_with(proto::ErrorReply{
              {ErrorCode::unknown_incident, "no resolved incident " + std::to_string(a.incident)}})});
        auto r = dispatcher.reopen(who, std::move(*closing), a.reason);
        commit_and_send({answer_with(r ? proto::ServerBody{proto::Ok{r.value()}}
                                       : proto::ServerBody{proto::ErrorReply{r.error()}})});
      });
      lws_cancel_service(context);
    });
  });
  return {};
}

}  // namespace anxin::gateway
