// Fault inference: what the log lines of a folder say happened (docs/replay.md, "What is
// inferable from which lines"), as scenario faults with their evidence and fitting windows.
#include "tools/replay/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "sim/config.h"
#include "tools/ingest/parse.h"
#include "tools/replay/common.h"
#include "tools/replay/infer_net.h"

namespace zksim::replay {

using detail::contains;
using detail::doc_duration_ns;
using detail::dur;
using detail::evidence;
using detail::kMs;
using detail::kS;
using detail::labs64;
using detail::where;
using detail::zk_node;
using ingest::Event;
using ingest::EventType;
using ingest::Timeline;
using nlohmann::json;

// ---- fault inference ----------------------------------------------------------------------------

std::vector<InferredFault> infer_faults(const Timeline& tl, const json& doc, int64_t epoch) {
  std::vector<InferredFault> out;
  const int64_t tick = doc_duration_ns(doc, "zk", "tickTime", 2 * kS);
  const int sync = doc.contains("zk") ? doc["zk"].value("syncLimit", 5) : 5;
  const int64_t session = doc_duration_ns(doc, "meta", "sessionTimeout", 6 * kS);
  const int64_t sync_to = tick * sync;
  const std::vector<KeyEvent> keys = key_events(tl);

  // Host of each ZooKeeper node and its address (for the C client's "Socket [addr:2181]").
  std::map<std::string, std::string> host_of_node;  // "zk:3" -> host
  for (const auto& e : tl.events)
    if (e.process == ingest::Process::kZookeeper && e.myid >= 0)
      host_of_node.emplace(zk_node(e), e.host);
  std::map<std::string, std::string> addr_to_host;
  for (const auto& h : doc.value("hosts", json::array())) {
    std::string name = h.value("name", "");
    addr_to_host[h.value("address", name)] = name;
    addr_to_host[name] = name;
  }
  // The scenario's hosts in its own order (explicit hosts, then peers' and metas' hosts), which a
  // partition must list in full: a host in no group is cut off from every other.
  detail::NetContext nc;
  nc.tl = &tl;
  nc.keys = &keys;
  nc.tick = tick;
  nc.sync_to = sync_to;
  nc.session = session;
  nc.epoch = epoch;
  {
    auto add_host = [&](const std::string& h) {
      if (h.empty() || std::find(nc.hosts.begin(), nc.hosts.end(), h) != nc.hosts.end()) return;
      nc.hosts.push_back(h);
      addr_to_host.emplace(h, h);
    };
    for (const auto& h : doc.value("hosts", json::array())) add_host(h.value("name", ""));
    json z = doc.value("zk", json::object());
    std::vector<std::string> peer_hosts;
    if (z.contains("peers")) {
      for (const auto& p : z["peers"]) {
        std::string h = p.value("host", "");
        nc.node_host[fmt::format("zk:{}", p.value("id", 0))] = h;
        peer_hosts.push_back(h);
      }
    } else {
      for (int i = 1; i <= z.value("count", 5); ++i) {
        nc.node_host[fmt::format("zk:{}", i)] = fmt::format("node{}", i);
        peer_hosts.push_back(fmt::format("node{}", i));
      }
    }
    for (const auto& h : peer_hosts) add_host(h);
    nc.voters = static_cast<int>(peer_hosts.size());
    if (doc.contains("meta")) {
      const json& m = doc["meta"];
      if (m.contains("hosts"))
        for (const auto& h : m["hosts"]) add_host(h.get<std::string>());
    }
    for (const auto& [n, h] : host_of_node) nc.node_host.emplace(n, h);
    nc.addr_host = addr_to_host;
  }
  auto events_of = [&](const std::string& node, int64_t from, int64_t to) {
    std::vector<const KeyEvent*> v;
    for (const auto& k : keys)
      if (k.node == node && k.t_ns > from && k.t_ns <= to) v.push_back(&k);
    return v;
  };
  auto leader_at = [&](int64_t t, const std::set<std::string>& exclude) -> std::string {
    std::map<std::string, std::pair<std::string, int64_t>> last;  // node -> (state, since)
    for (const auto& k : keys) {
      if (k.t_ns >= t) break;
      if (k.type == "state") last[k.node] = {k.state, k.t_ns};
    }
    std::string best;
    int64_t since = -1;
    for (const auto& [n, st] : last)
      if (st.first == "leading" && !exclude.count(n) && st.second > since)
        best = n, since = st.second;
    return best;
  };
  auto key_of = [&](const Event& e) {
    for (const auto& k : keys)
      if (k.t_ns == e.time_ns && k.where == where(tl, e)) return k;
    return KeyEvent{};
  };

  std::set<const Event*> used;
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> down_hosts;  // host, window

  // 1. A host that lost its network: its meta client reports "unreachable" for two or more servers.
  std::map<std::string, std::vector<const Event*>> unreach;
  for (const auto& e : tl.events) {
    if (e.type != EventType::kConnectionError) continue;
    // ENETUNREACH / EHOSTUNREACH. Not 112 "Host is down": the C client logs that on EOF from a
    // server that went LOOKING and closed, i.e. a server it could reach.
    if (e.num == 101 || e.num == 113 || contains(e.state, "unreachable") ||
        contains(e.state, "No route"))
      unreach[e.host].push_back(&e);
  }
  for (const auto& [host, errs] : unreach) {
    size_t i = 0;
    while (i < errs.size()) {
      size_t j = i;
      std::set<std::string> servers{errs[i]->server};
      while (j + 1 < errs.size() && errs[j + 1]->time_ns - errs[j]->time_ns < 5 * kS)
        servers.insert(errs[++j]->server);
      const Event* first = errs[i];
      const Event* last = errs[j];
      i = j + 1;
      if (servers.size() < 2) continue;
      InferredFault f;
      json ev = json::array(
          {evidence(tl, *first, "first 'network is unreachable' of the host's own client"),
           evidence(tl, *last, "last 'network is unreachable' of the host's own client")});
      // The start: every read timeout (errno 110) of the host's own client, or of another host's
      // client on this host's server, fired 2/3 of the session timeout after its last receive;
      // the fault came after that receive and before the next ping (1/3 later) got an answer.
      int64_t lower = INT64_MIN, upper = first->time_ns;
      for (const auto& e : tl.events) {
        if (e.type != EventType::kConnectionError || e.num != 110) continue;
        std::string sh = e.server.substr(0, e.server.rfind(':'));
        auto it = addr_to_host.find(sh);
        bool mine = e.host == host;
        bool on_me = it != addr_to_host.end() && it->second == host;
        if (!mine && !on_me) continue;
        if (e.time_ns < first->time_ns - session || e.time_ns > last->time_ns) continue;
        int64_t rx = e.time_ns - session * 2 / 3;
        lower = std::max(lower, rx);
        upper = std::min(upper, rx + session / 3);
        ev.push_back(
            evidence(tl, e,
                     fmt::format("{}'s client read timeout {}: last receive {} before", e.host,
                                 mine ? "to " + e.server : "on " + host + "'s server",
                                 dur(session * 2 / 3))));
      }
      if (lower == INT64_MIN) lower = first->time_ns - session / 3;
      if (upper < lower) upper = lower;
      // The end: after its last unreachable error, before its first connection that worked.
      int64_t end = last->time_ns + kMs;
      for (const auto& e : tl.events) {
        if (e.host != host || e.time_ns <= last->time_ns) continue;
        if (e.type == EventType::kClientConnectInitiated ||
            e.type == EventType::kClientSessionEstablished) {
          end = (last->time_ns + e.time_ns) / 2;
          ev.push_back(evidence(
              tl, e, "the host's first connection attempt that worked: the end is before it"));
          break;
        }
      }
      f.at_ns = (lower + upper) / 2 - epoch;
      f.end_ns = end - epoch;
      f.at_window = {lower - epoch, upper - epoch};
      f.end_window = {last->time_ns - epoch, 2 * end - last->time_ns - epoch};
      f.fault =
          json{{"kind", "ifdown"},
               {"host", host},
               {"comment", fmt::format("inferred: {} unreachable from {} to {} (start bounded by "
                                       "peers' read timeouts, end by its last unreachable error)",
                                       host, ingest::format_utc(f.at_ns + epoch),
                                       ingest::format_utc(*f.end_ns + epoch))},
               {"evidence", ev}};
      down_hosts.push_back({host, {f.at_ns + epoch - sync_to, *f.end_ns + epoch + sync_to}});
      out.push_back(std::move(f));
    }
  }
  auto covered = [&](const std::string& host, int64_t t) {
    for (const auto& [h, w] : down_hosts)
      if (h == host && t >= w.first && t <= w.second) return true;
    return false;
  };

  std::vector<const Event*> fex;
  for (const auto& e : tl.events)
    if (e.type == EventType::kFollowerException) fex.push_back(&e);

  // A GC pause logged on host H, at least `min_ns` long (by default a third of a session: long
  // enough to silence a client), that overlaps [from, to]: rule 5 adds it from the GC log, so the
  // rules that read a silence as a pause or a cut leave a silence it explains to that rule.
  auto gc_logged_over_min = [&](const std::string& H, int64_t from, int64_t to, int64_t min_ns) {
    for (const auto& x : tl.events)
      if (x.type == EventType::kGcPause && x.num * 1000 >= min_ns && nc.resolve(x.host) == H &&
          x.time_ns <= to && x.time_ns + x.num * 1000 >= from)
        return true;
    return false;
  };
  auto gc_logged_over = [&](const std::string& H, int64_t from, int64_t to) {
    return gc_logged_over_min(H, from, to, session / 3);
  };
  // The same for the peer rules (a leader or follower silent to its peers): a third of the shorter
  // of a session and syncLimit*tickTime.
  auto gc_stopped_peer = [&](const std::string& H, int64_t from, int64_t to) {
    return gc_logged_over_min(H, from, to, std::min(sync_to, session) / 3);
  };

  // 2. A paused follower: the leader's LearnerHandler reads time out on it; the follower itself
  // logs nothing until its next write fails on resume.
  for (const auto& e : tl.events) {
    if (e.type != EventType::kLearnerHandlerError || !contains(e.detail, "timed out")) continue;
    int near = 0;
    for (const Event* x : fex)
      if (labs64(x->time_ns - e.time_ns) < 200 * kMs) ++near;
    if (near >= 2) continue;  // the followers lost the leader: not a follower pause
    std::string L = zk_node(e);
    // The leader's own GC log shows it stopped in that silence: its handler's deadline passed
    // while it was paused (rule 5's pause), whatever the follower did.
    if (gc_stopped_peer(nc.host_of(L), e.time_ns - sync_to, e.time_ns)) continue;
    // The learner the handler served (its address is in the thread name), when known.
    std::string learner = nc.resolve(e.server);
    const Event* best = nullptr;
    for (const Event* x : fex) {
      // (An exception right after the timeout is the leader's close arriving (EOF), not a
      // resume: the follower was not paused but cut off in one direction.)
      if (used.count(x) || x->time_ns <= e.time_ns + 20 * kMs || zk_node(*x) == L) continue;
      if (!learner.empty() && nc.host_of(zk_node(*x)) != learner) continue;
      if (!events_of(zk_node(*x), e.time_ns - sync_to, x->time_ns - 1).empty()) continue;
      if (!best || x->time_ns < best->time_ns) best = x;
    }
    if (!best) continue;
    // A GC pause the follower's GC log shows in that silence (a third of syncLimit*tickTime or
    // more) is the pause: rule 5 adds it as logged (the handler may also have waited out a pause
    // of the leader's own, logged too).
    if (gc_stopped_peer(nc.host_of(zk_node(*best)), e.time_ns - sync_to, best->time_ns)) {
      used.insert(best);  // its exception is that pause's (not a leader loss for rule 3)
      continue;
    }
    used.insert(best);
    InferredFault f;
    f.at_ns = e.time_ns - sync_to + kMs - epoch;
    f.end_ns = best->time_ns - epoch;
    f.fault = json{
        {"kind", "pause"},
        {"target", zk_node(*best)},
        {"comment",
         fmt::format("inferred: follower {} paused (leader {}'s LearnerHandler read timeout {} "
                     "after its last packet; its own next write failed on resume)",
                     zk_node(*best), L, dur(sync_to))},
        {"evidence",
         json::array(
             {evidence(
                  tl, e,
                  "LearnerHandler read timeout on the leader: start = this - syncLimit*tickTime"),
              evidence(tl, *best, "the follower's first line after its silence: resume")})}};
    f.anchors.push_back({"at", key_of(e)});
    f.anchors.push_back({"end", key_of(*best)});
    f.lost_pairs = {{nc.host_of(L), nc.host_of(zk_node(*best))}};
    out.push_back(std::move(f));
  }

  // 3. The followers lose their leader together: crash (EOF at once) or pause / isolation (read
  // timeouts syncLimit*tickTime after the last ping).
  for (size_t i = 0; i < fex.size(); ++i) {
    if (used.count(fex[i])) continue;
    std::vector<const Event*> group;
    std::set<std::string> nodes;
    for (size_t j = i; j < fex.size() && fex[j]->time_ns - fex[i]->time_ns < 200 * kMs; ++j) {
      if (used.count(fex[j])) continue;
      group.push_back(fex[j]);
      nodes.insert(zk_node(*fex[j]));
      used.insert(fex[j]);
    }
    // A follower whose own GC log shows a pause in its last syncLimit*tickTime lost its leader to
    // that pause (its deadline passed while it was stopped, or the leader dropped it meanwhile and
    // it found the connection closed on resume): rule 5's pause, not the leader's fault.
    std::erase_if(group, [&](const Event* x) {
      return gc_stopped_peer(nc.host_of(zk_node(*x)), x->time_ns - sync_to, x->time_ns);
    });
    if (group.empty()) continue;
    nodes.clear();
    for (const Event* x : group) nodes.insert(zk_node(*x));
    const Event& g0 = *group.front();
    std::string L = leader_at(g0.time_ns, nodes);
    if (L.empty()) continue;
    std::string Lhost = host_of_node.count(L) ? host_of_node[L] : "";
    if (covered(Lhost, g0.time_ns)) continue;
    // The leader's GC log shows it stopped in the followers' silence: that pause (rule 5).
    if (gc_stopped_peer(Lhost, g0.time_ns - sync_to, g0.time_ns)) continue;
    // Followers whose own host was down (step 1) lost their leader because of it: nothing more to
    // infer from their timeouts (the network rules would read the same outage again as a cut or a
    // second interface down).
    bool followers_down = true;
    for (const Event* x : group) {
      auto h = host_of_node.find(zk_node(*x));
      followers_down = followers_down && h != host_of_node.end() && covered(h->second, x->time_ns);
    }
    if (followers_down) continue;
    int eof = 0, rto = 0;
    for (const Event* x : group) {
      if (contains(x->detail, "timed out"))
        ++rto;
      else
        ++eof;
    }
    json ev = json::array();
    for (const Event* x : group)
      ev.push_back(evidence(
          tl, *x,
          fmt::format("{}: Exception when following the leader: {}", zk_node(*x), x->detail)));
    // A killed leader logs nothing from its death to its restart; a paused one nothing from its
    // last ping on; one that was cut off goes on logging (its LearnerHandlers, its quorum loss).
    int64_t next_start = INT64_MAX;
    for (const auto* k : events_of(L, g0.time_ns, INT64_MAX))
      if (k->type == "peer_start") {
        next_start = k->t_ns;
        break;
      }
    bool silent =
        events_of(L, g0.time_ns - 100 * kMs, std::min(g0.time_ns + tick, next_start - 1)).empty();
    // A paused leader resumes to find its followers gone: the LearnerHandler of every follower
    // fails at the same instant (its read deadline passed during the pause, or the follower's
    // close is waiting), after the followers' own timeouts (20 ms; 100 ms for a lone handler),
    // and nothing of the leader's comes before it since their last ping. A leader cut off instead
    // goes on running: its handlers time out one by one, each syncLimit*tickTime after its
    // follower's last ack, i.e. a few ms (a lone one: tens of ms) after the followers' timeouts.
    const Event* resumed = nullptr;
    {
      std::vector<const Event*> lh;
      for (const auto& x : tl.events) {
        if (x.time_ns < g0.time_ns - 100 * kMs) continue;
        if (x.time_ns > g0.time_ns + tick) break;
        if (x.type == EventType::kLearnerHandlerError && x.process == ingest::Process::kZookeeper &&
            zk_node(x) == L)
          lh.push_back(&x);
      }
      if (lh.size() >= group.size() && lh.back()->time_ns - lh.front()->time_ns <= kMs &&
          lh.front()->time_ns >= group.back()->time_ns + (lh.size() >= 2 ? 20 : 100) * kMs &&
          events_of(L, g0.time_ns - sync_to, lh.front()->time_ns - 1).empty())
        resumed = lh.front();
    }
    if (!silent && !resumed && !events_of(L, g0.time_ns - sync_to, g0.time_ns + tick).empty()) {
      detail::NetEpisode ep = detail::infer_network_episode(nc, L, group, used);
      if (!ep.faults.empty()) {
        for (auto& f : ep.faults) out.push_back(std::move(f));
        continue;
      }
    }
    InferredFault f;
    if (eof > rto && silent) {
      f.at_ns = g0.time_ns - epoch;
      f.fault = json{{"kind", "crash"}, {"target", L}};
      f.anchors.push_back({"at", key_of(g0)});
      std::string comment = fmt::format(
          "inferred: leader {} killed (its followers saw the connection close at once)", L);
      // The restart: the crashed peer's first line after the crash ("Starting quorum peer", or
      // its first state line when the startup line is not a key event).
      auto back = events_of(L, g0.time_ns, INT64_MAX);
      if (!back.empty()) {
        const KeyEvent& k = *back.front();
        f.end_ns = k.t_ns - 525 * kMs - epoch;  // JVM boot: 350..700 ms before its first line
        f.end_key = "restartAfter";
        f.anchors.push_back({"end", k});
        ev.push_back(json{{"line", k.where},
                          {"time", ingest::format_utc(k.t_ns)},
                          {"what",
                           "restart: the crashed peer's first line again (restart = this - JVM "
                           "boot, calibrated)"}});
        comment += ", restarted";
      }
      f.fault["comment"] = comment;
    } else {
      int64_t last_ping = g0.time_ns - sync_to;
      f.at_ns = last_ping + kMs - epoch;
      auto during = events_of(L, last_ping, g0.time_ns + tick);
      auto after = events_of(L, g0.time_ns + tick, INT64_MAX);
      if (resumed) {
        f.fault = json{{"kind", "pause"}, {"target", L}};
        // Followers of L that did not time out (in `following` at g0, no exception until the
        // resume) still had a ping younger than syncLimit*tickTime when L resumed: the pause
        // began after resume - syncLimit*tickTime, and the followers that did time out lost their
        // pings to something else (a cut of their own).
        std::map<std::string, std::string> state_at;
        for (const auto& k : keys) {
          if (k.t_ns >= g0.time_ns) break;
          if (k.type == "state") state_at[k.node] = k.state;
        }
        bool others_kept = false;
        for (const auto& [n, st] : state_at) {
          if (n == L || nodes.count(n) || st != "following") continue;
          bool timed_out = false;
          for (const auto* k : events_of(n, g0.time_ns - 200 * kMs, resumed->time_ns + 100 * kMs))
            timed_out = timed_out || k->type == "follower_exception";
          others_kept = others_kept || !timed_out;
        }
        int64_t lo = others_kept ? std::max(last_ping, resumed->time_ns - sync_to) : last_ping;
        f.at_ns = lo + kMs - epoch;
        f.at_window = {lo - epoch, lo + tick / 2 - epoch};
        if (!others_kept) f.anchors.push_back({"at", key_of(g0)});
        f.end_ns = resumed->time_ns - epoch;
        f.anchors.push_back({"end", key_of(*resumed)});
        ev.push_back(evidence(tl, *resumed,
                              "the leader resumed: its LearnerHandlers all failed at this instant "
                              "(deadlines or followers' closes that passed while it was stopped)"));
        f.fault["comment"] = fmt::format(
            "inferred: leader {} paused (followers' read timeouts {} after the last ping; the "
            "leader silent until its handlers all failed at one instant)",
            L, dur(sync_to));
      } else if (!during.empty()) {
        // The leader went on logging (its own quorum loss): it was cut off, not stopped.
        f.fault = json{{"kind", "ifdown"}, {"host", Lhost}};
        const KeyEvent* back = nullptr;
        for (const auto* k : events_of(L, g0.time_ns, INT64_MAX))
          if (k->type == "state" && k->state != "looking") {
            back = k;
            break;
          }
        if (back) {
          f.end_ns = back->t_ns - epoch;
          f.end_window = {g0.time_ns - epoch, back->t_ns - epoch};
        }
        f.at_window = {last_ping - epoch, last_ping + tick / 2 - epoch};
        f.fault["comment"] = fmt::format(
            "inferred: leader {}'s host {} isolated (followers' read timeouts while it logged its "
            "own quorum loss); the end is bounded by its rejoin only",
            L, Lhost);
        ev.push_back(json{{"line", during.front()->where},
                          {"time", ingest::format_utc(during.front()->t_ns)},
                          {"what", "the isolated leader's own line during the outage"}});
      } else {
        f.fault = json{{"kind", "pause"}, {"target", L}};
        std::string comment = fmt::format(
            "inferred: leader {} paused (followers' read timeouts {} after the last ping; the "
            "leader silent meanwhile)",
            L, dur(sync_to));
        f.anchors.push_back({"at", key_of(g0)});
        if (!after.empty() || !events_of(L, g0.time_ns, INT64_MAX).empty()) {
          auto all = events_of(L, g0.time_ns, INT64_MAX);
          const KeyEvent* first = all.front();
          // A resumed leader's next quorum check comes one tick after it resumes.
          f.end_ns = first->t_ns - (first->type == "leader_quorum_loss" ? tick : 0) - epoch;
          f.anchors.push_back({"end", *first});
          ev.push_back(json{{"line", first->where},
                            {"time", ingest::format_utc(first->t_ns)},
                            {"what",
                             "the leader's first line after its silence: resume (minus one tick "
                             "for a quorum check)"}});
        } else {
          // (A pause needs an end: past the folder's last line, so the run ends inside it.)
          int64_t last_line = g0.time_ns;
          for (const auto& x : tl.events) last_line = std::max(last_line, x.time_ns);
          f.end_ns = last_line + 10 * kS - epoch;
          comment += "; it never logged again (paused to the end)";
        }
        f.fault["comment"] = comment;
      }
    }
    f.fault["evidence"] = ev;
    out.push_back(std::move(f));
  }

  // Helpers of 3b and 3c. Whether a fault inferred so far spans any of [from, to] (absolute ns),
  // its windows widened by `slack`.
  auto inferred_over = [&](int64_t from, int64_t to, int64_t slack) {
    for (const auto& f : out) {
      int64_t a = f.at_window ? f.at_window->first : f.at_ns;
      int64_t b = f.end_window ? f.end_window->second : f.end_ns.value_or(f.at_ns + sync_to);
      if (from - epoch <= b + slack && to - epoch >= a - slack) return true;
    }
    return false;
  };
  // The first time a C client left CONNECTED after the session it established in `est`, or its
  // meta's QuorumCluster started from Stopped (a new process: a killed one logs nothing, so its
  // session's last sign of life is unknown; a meta that rejoins leaves CONNECTED first).
  auto first_disconnect = [&](const Event& est) -> const Event* {
    for (const auto& c : tl.events)
      if (c.time_ns > est.time_ns && c.host == est.host &&
          ((c.type == EventType::kClientStateChange && c.prev == "CONNECTED_STATE") ||
           (c.type == EventType::kQuorumClusterState && c.prev == "Stopped")))
        return &c;
    return nullptr;
  };
  // The latest establishment, by the time of `expiry`, of the session it expired.
  auto establishment_of = [&](const Event& expiry) -> const Event* {
    const Event* est = nullptr;
    for (const auto& c : tl.events) {
      if (c.time_ns > expiry.time_ns) break;
      if (c.type == EventType::kClientSessionEstablished && c.detail == expiry.detail) est = &c;
    }
    return est;
  };
  // A client on a host `host_ok` accepts whose latest session established by `since` was on a
  // server `server_ok` accepts, and which stayed connected past `until`: {that establishment, the
  // client's host}, or {nullptr, ""}.
  auto stayed_connected = [&](const auto& host_ok, const auto& server_ok, int64_t since,
                              int64_t until) -> std::pair<const Event*, std::string> {
    std::map<std::string, const Event*> on;  // client host -> its latest establishment
    for (const auto& c : tl.events) {
      if (c.time_ns > since) break;
      if (c.type == EventType::kClientSessionEstablished) on[c.host] = &c;
    }
    for (const auto& [ch, est] : on) {
      std::string H = nc.resolve(ch);
      if (H.empty() || !host_ok(H) || !server_ok(nc.resolve(est->server))) continue;
      const Event* gone = first_disconnect(*est);
      if (!gone || gone->time_ns > until) return {est, H};
    }
    return {nullptr, ""};
  };
  // A client on a host other than `x` and `y` whose session (latest establishment by `since`) was
  // on S's server and that stayed connected past `until`: S was reachable from that host. Returns
  // the establishment and the client's host, or {nullptr, ""}.
  auto kept_connected = [&](const std::string& S, const std::string& x, const std::string& y,
                            int64_t since, int64_t until) -> std::pair<const Event*, std::string> {
    return stayed_connected([&](const std::string& H) { return H != x && H != y; },
                            [&](const std::string& server) { return server == S; }, since, until);
  };
  // The ZooKeeper node on host H ("" if none).
  auto node_on = [&](const std::string& H) {
    std::string node;
    for (const auto& [n, h] : nc.node_host)
      if (h == H) node = n;
    return node;
  };
  // `host` against every other host of the scenario.
  auto isolation = [&](const std::string& host) {
    json rest = json::array();
    for (const auto& h : nc.hosts)
      if (h != host) rest.push_back(h);
    return json::array({json::array({host}), rest});
  };
  // Read timeouts (errno 110) that nothing inferred so far explains, per server S, grouped into
  // silences: timeouts whose last receives (2/3 of a session before each) lie within 1/3 of a
  // session of each other. [lower, upper]: after every client's last receive, before its next ping
  // (1/3 later) was answered. Clients on S's own host count only when asked for.
  struct Silence {
    std::string S;
    std::vector<const Event*> errs;
    int64_t lower, upper;
    bool leader_lost;  // a follower lost its leader in the same silence
  };
  // Each peer's last state line at or before t.
  auto states_at = [&](int64_t t) {
    std::map<std::string, std::string> state;
    for (const auto& k : keys) {
      if (k.t_ns > t) break;
      if (k.type == "state") state[k.node] = k.state;
    }
    return state;
  };
  // Whether at some instant of [from, to] fewer than a majority of the peers were up and with a
  // leader: neither in a GC pause their GC log shows nor looking.
  auto quorum_lost_within = [&](int64_t from, int64_t to) {
    std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> gcs;  // host, [start, end)
    for (const auto& x : tl.events)
      if (x.type == EventType::kGcPause && x.num >= 1000 && x.time_ns <= to &&
          x.time_ns + x.num * 1000 >= from)
        gcs.push_back({nc.resolve(x.host), {x.time_ns, x.time_ns + x.num * 1000}});
    std::vector<int64_t> at{from, to};
    for (const auto& [h, w] : gcs) at.push_back(std::clamp(w.first, from, to));
    for (const auto& k : keys)
      if (k.type == "state" && k.t_ns >= from && k.t_ns <= to) at.push_back(k.t_ns);
    for (int64_t t : at) {
      const auto state = states_at(t);
      int up = 0;
      for (const auto& [n, h] : nc.node_host) {
        bool paused = false;
        for (const auto& [gh, w] : gcs)
          paused = paused || (gh == h && w.first <= t && t < w.second);
        auto st = state.find(n);
        up += !paused && st != state.end() && st->second != "looking";
      }
      if (up * 2 <= nc.voters) return true;
    }
    return false;
  };
  auto read_silences = [&](bool own_host) {
    std::map<std::string, std::vector<const Event*>> by_server;
    for (const auto& e : tl.events) {
      if (e.type != EventType::kConnectionError || e.num != 110 || used.count(&e)) continue;
      std::string S = nc.resolve(e.server), M = nc.resolve(e.host);
      if (S.empty() || M.empty() || (S == M && !own_host)) continue;
      if (inferred_over(e.time_ns - session * 2 / 3, e.time_ns, kS)) continue;
      by_server[S].push_back(&e);
    }
    std::vector<Silence> v;
    for (const auto& [S, errs] : by_server) {
      size_t i = 0;
      while (i < errs.size()) {
        int64_t lower = errs[i]->time_ns - session * 2 / 3, upper = lower + session / 3;
        size_t j = i;
        while (j + 1 < errs.size() && errs[j + 1]->time_ns - session * 2 / 3 < upper) {
          ++j;
          lower = std::max(lower, errs[j]->time_ns - session * 2 / 3);
        }
        Silence si{S,
                   {errs.begin() + static_cast<long>(i), errs.begin() + static_cast<long>(j) + 1},
                   lower,
                   std::max(lower, upper),
                   false};
        for (const Event* x : fex)
          if (x->time_ns >= lower && x->time_ns <= errs[j]->time_ns + sync_to)
            si.leader_lost = true;
        // S's own peer looking at some point of the silence (since before it, or from within
        // it): a server without a leader serves no client, whatever took its leader away.
        if (const std::string n = node_on(S); !si.leader_lost && !n.empty()) {
          const auto at_lower = states_at(lower);
          auto st = at_lower.find(n);
          si.leader_lost = st != at_lower.end() && st->second == "looking";
          for (const auto* k : events_of(n, lower, errs[j]->time_ns))
            si.leader_lost = si.leader_lost || (k->type == "state" && k->state == "looking");
        }
        // Or no quorum to serve with: at some instant of the silence a majority of the peers was
        // stopped by a logged GC pause or had no leader (a server that cannot commit a
        // createSession or a ping's session touch leaves its clients waiting), e.g. the leader
        // on S with its one follower in a long GC and the third peer electing.
        if (!si.leader_lost && nc.voters > 0)
          si.leader_lost = quorum_lost_within(lower, errs[j]->time_ns);
        v.push_back(std::move(si));
        i = j + 1;
      }
    }
    return v;
  };
  // 3d. A ZooKeeper server that stopped answering its clients while its host's network worked:
  // its process was stopped (SIGSTOP, a long GC), not cut off. Read timeouts (errno 110) on one
  // server S, grouped into one silence as in 3b, with proof that S's host could talk: a client on
  // S itself timed out on S (loopback, which no network fault touches), or a client on S stayed
  // connected through the silence to the server on the host of a client that timed out (TCP
  // needs both directions: that pair of hosts could talk, so that client's silence was S's
  // process) — only when S, leading, expired sessions after it, a silence too long for any client
  // to outlast. Either way no cut explains it. No peer lost its leader (a pause
  // longer than syncLimit*tickTime is rules 2 and 3). Start: after the clients' last receive,
  // before their next ping was answered (3b's window). End: after the last timeout; when S led and
  // expired sessions after it, at its resume (the expiries of sessions its followers had kept
  // alive: their touches waited in its queue behind the expiry), else within syncLimit*tickTime of
  // the start. Both fitted. Before 3c and 3b, which would read the expiries and the timeouts as
  // cuts.
  {
    for (const Silence& si : read_silences(true)) {
      if (si.leader_lost) continue;
      const std::string& S = si.S;
      const std::string node = node_on(S);
      if (node.empty()) continue;
      const int64_t lower = si.lower, upper = si.upper;
      const Event* last = si.errs.back();
      // Proof that S's host had its network: a loopback timeout, or a client on S that stayed
      // connected, from before the silence until after it, to the server on the host of a
      // client that timed out.
      std::set<std::string> timed_out;
      for (const Event* x : si.errs) timed_out.insert(nc.resolve(x->host));
      const Event* proof = nullptr;
      std::string proof_what;
      if (gc_logged_over(S, lower, last->time_ns)) continue;
      for (const Event* x : si.errs) {
        if (nc.resolve(x->host) != S) continue;
        proof = x;
        proof_what = fmt::format(
            "{}'s client timed out reading from the server on its own host: loopback, which no "
            "network fault touches; {}'s process was not answering",
            S, node);
        break;
      }
      // S led and expired sessions after the silence: at its resume.
      const Event* resumed = nullptr;
      for (const auto& x : tl.events) {
        if (x.time_ns <= last->time_ns) continue;
        if (x.time_ns > lower + sync_to) break;
        if (x.type == EventType::kSessionExpiry && nc.resolve(x.host) == S) {
          resumed = &x;
          break;
        }
      }
      // A client that stayed connected proves the pair could talk only if the silence was
      // long enough to time it out too: a session expired by S for want of touches means one
      // of at least a session less a ping period (T/2), longer than a client's read timeout
      // (2/3 of a session) when the session exceeds 1.5 T. Timeouts alone mean at least 1/3 of
      // a session: a client on another ping phase may have stayed connected through a cut.
      if (!proof && resumed && session - tick / 2 > session * 2 / 3) {
        // The followers whose touches S missed: the servers of the sessions it expired then.
        std::set<std::string> missed;
        for (const auto& x : tl.events) {
          if (x.time_ns < resumed->time_ns) continue;
          if (x.time_ns > resumed->time_ns + tick) break;
          if (x.type != EventType::kSessionExpiry || nc.resolve(x.host) != S) continue;
          if (const Event* est = establishment_of(x)) missed.insert(nc.resolve(est->server));
        }
        auto [est, H] = stayed_connected(
            [&](const std::string& h) { return h == S; },
            [&](const std::string& o) { return o != S && timed_out.count(o) && missed.count(o); },
            lower, resumed->time_ns);
        if (est) {
          std::string other = nc.resolve(est->server);
          proof = est;
          proof_what = fmt::format(
              "{}'s own client stayed connected to {}'s server through the silence: {}'s "
              "network worked; {}'s process was not answering",
              S, other, S, node);
        }
      }
      if (!proof) continue;
      InferredFault f;
      f.at_window = {lower - epoch, upper - epoch};
      f.at_ns = (lower + upper) / 2 - epoch;
      int64_t end_lo = last->time_ns, end_hi = lower + sync_to;
      if (resumed) {
        // (the line has millisecond stamps: the resume lies in the millisecond it names)
        end_hi = resumed->time_ns + kMs;
        end_lo = std::max(end_lo, resumed->time_ns - tick);
      }
      if (end_hi < end_lo) end_hi = end_lo;
      f.end_window = {end_lo - epoch, end_hi - epoch};
      f.end_ns = (resumed ? resumed->time_ns : (end_lo + end_hi) / 2) - epoch;
      json ev = json::array();
      for (const Event* x : si.errs) {
        used.insert(x);
        ev.push_back(evidence(
            tl, *x,
            fmt::format("{}'s client read timeout on {}'s server: {} silent since {} before",
                        nc.resolve(x->host), S, S, dur(session * 2 / 3))));
      }
      ev.push_back(evidence(tl, *proof, proof_what));
      if (resumed)
        ev.push_back(evidence(tl, *resumed,
                              fmt::format("the leader on {} expired a session after the silence: "
                                          "its resume (the end is about here)",
                                          S)));
      f.fault =
          json{{"kind", "pause"},
               {"target", node},
               {"comment",
                fmt::format("inferred: {} paused (its clients timed out reading from it while {}'s "
                            "network worked and no ZooKeeper peer lost its leader: shorter than "
                            "syncLimit*tickTime)",
                            node, S)},
               {"evidence", ev}};
      out.push_back(std::move(f));
    }
  }

  // 3c. Sessions the leader expired while their clients were still connected to followers: the
  // leader stopped hearing those followers' touches (a follower reports them in its ping replies)
  // for a session timeout, though the clients heard from their servers; nothing above explains
  // it. Expiries at one leader whose windows overlap are one cut. With one such follower S, S's
  // host was cut off from the leader's (the co-located case of docs/fuzz.md: the client on S's own
  // host keeps S): S against the rest. With several, those followers lost the leader together:
  // the leader's host cut off from them (against the rest when they are all its peers, else those
  // followers against the rest). Start: each leader's last touch from S lies within a ping period
  // (T/2) before the cut, and the expiry falls on the first T bucket after last touch + session;
  // end: before any S applied the closeSession and closed its client's connection (the client's
  // first CONNECTING after the expiry). Both fitted. Before 3b: a client on the cut-off side that
  // timed out on a server it could no longer reach is then explained.
  {
    const int64_t T = tick;
    struct Expired {
      const Event* e;
      const Event* est;
      const Event* closed;
      std::string S, M, Lh;
      int64_t lower, upper;
    };
    std::vector<Expired> cands;
    for (const auto& e : tl.events) {
      if (e.type != EventType::kSessionExpiry || e.detail.empty()) continue;
      std::string Lh = nc.resolve(e.host);
      // The client that held the session, where, and whether it stayed connected until now.
      const Event* est = establishment_of(e);
      if (!est) continue;
      std::string S = nc.resolve(est->server), M = nc.resolve(est->host);
      if (S.empty() || Lh.empty() || S == Lh) continue;
      // Connected until after the expiry: the disconnect is S closing it on the closeSession.
      // (S closes it once the closeSession reaches it: at the latest when the cut heals, within
      // syncLimit*tickTime, or S's own peer would have lost its leader. A client gone quiet for
      // longer, or whose meta started anew, was not "still connected": its process was killed.)
      const Event* closed = first_disconnect(*est);
      if (!closed || closed->time_ns <= e.time_ns || closed->time_ns > e.time_ns + sync_to ||
          closed->type != EventType::kClientStateChange)
        continue;
      int64_t st = e.num > 0 ? e.num * kMs : session;
      int64_t lower = e.time_ns - st - T - T / 2, upper = e.time_ns - st + T / 2;
      if (inferred_over(lower, e.time_ns, 0)) continue;
      // A GC pause logged on the leader's host (or S's) in the window: the touches waited in a
      // stopped JVM, not on a cut link; rule 5 adds that pause.
      if (gc_logged_over(Lh, lower, e.time_ns) || gc_logged_over(S, lower, e.time_ns)) continue;
      cands.push_back({&e, est, closed, S, M, Lh, lower, upper});
    }
    std::vector<bool> taken(cands.size(), false);
    for (size_t i = 0; i < cands.size(); ++i) {
      if (taken[i]) continue;
      // One cut: this expiry and the later ones at the same leader whose windows overlap.
      std::vector<const Expired*> grp{&cands[i]};
      int64_t lower = cands[i].lower, upper = cands[i].upper;
      int64_t close_by = cands[i].closed->time_ns, held_until = cands[i].upper;
      for (size_t j = i + 1; j < cands.size(); ++j) {
        const Expired& x = cands[j];
        if (taken[j] || x.Lh != cands[i].Lh || x.lower > upper || x.upper < lower) continue;
        taken[j] = true;
        grp.push_back(&x);
        lower = std::max(lower, x.lower);
        upper = std::min(upper, x.upper);
        close_by = std::min(close_by, x.closed->time_ns);
        held_until = std::max(held_until, x.upper);
      }
      const std::string& Lh = cands[i].Lh;
      std::vector<std::string> servers;
      for (const Expired* x : grp)
        if (std::find(servers.begin(), servers.end(), x->S) == servers.end())
          servers.push_back(x->S);
      std::sort(servers.begin(), servers.end());
      const Event& last = *grp.back()->e;
      // A client on the leader's host that stayed connected to one of those followers through
      // the window (an expired session's own client, or another): that pair of hosts could talk
      // (a cut long enough to expire a session, at least a session less T/2, also times out a
      // client, after 2/3 of a session, when the session exceeds 1.5 T), so the leader missed
      // the touches because its process was stopped: a pause, its end at the expiries (the
      // resumed leader expired the sessions before it read the touches queued behind).
      if (session - T / 2 > session * 2 / 3) {
        const Event* proof = nullptr;
        std::string via;
        for (const Expired* x : grp)
          if (x->M == Lh && x->est->time_ns <= lower) {
            proof = x->closed;
            via = x->S;
            break;
          }
        if (!proof) {
          auto [est, H] = stayed_connected([&](const std::string& h) { return h == Lh; },
                                           [&](const std::string& o) {
                                             return std::find(servers.begin(), servers.end(), o) !=
                                                    servers.end();
                                           },
                                           lower, last.time_ns);
          if (est) {
            proof = est;
            via = nc.resolve(est->server);
          }
        }
        const std::string node = node_on(Lh);
        if (proof && !node.empty() &&
            !gc_logged_over(Lh, grp.front()->e->time_ns - sync_to, grp.front()->e->time_ns)) {
          const Event& e0 = *grp.front()->e;
          int64_t st = e0.num > 0 ? e0.num * kMs : session;
          InferredFault f;
          int64_t a_lo = e0.time_ns - sync_to, a_hi = std::max(a_lo, e0.time_ns - st + T / 2);
          f.at_window = {a_lo - epoch, a_hi - epoch};
          f.at_ns = (a_lo + a_hi) / 2 - epoch;
          f.end_window = {e0.time_ns - T - epoch, e0.time_ns + kMs - epoch};
          f.end_ns = e0.time_ns - epoch;  // the resumed leader expires at once
          json ev = json::array();
          for (const Expired* x : grp)
            ev.push_back(evidence(
                tl, *x->e,
                fmt::format("the leader on {} expired session {}, whose client stayed connected "
                            "to {}: it missed {}'s touches (its resume: the end is about here)",
                            Lh, x->e->detail, x->S, x->S)));
          ev.push_back(evidence(tl, *proof,
                                fmt::format("a client on {} stayed connected to {}'s server "
                                            "through the window: {} and {} could talk",
                                            Lh, via, Lh, via)));
          f.fault = json{
              {"kind", "pause"},
              {"target", node},
              {"comment",
               fmt::format("inferred: {} paused (the leader on {} expired {} session(s) kept alive "
                           "by followers its host could still reach; no peer lost its leader: "
                           "shorter than syncLimit*tickTime)",
                           node, Lh, grp.size())},
              {"evidence", ev}};
          out.push_back(std::move(f));
          continue;
        }
      }
      InferredFault f;
      f.at_window = {lower - epoch, upper - epoch};
      f.at_ns = (lower + upper) / 2 - epoch;
      // Each expiry needs the cut to have lasted past its last touch + a ping period, and to
      // within about two ticks of the last expiry (a touch reported by a ping reply well before
      // it would have renewed the session; a healed link may wait for a retransmission).
      held_until = std::max(held_until, last.time_ns - 2 * T);
      f.end_window = {held_until - epoch, close_by - epoch};
      f.end_ns = (held_until + close_by) / 2 - epoch;
      json ev = json::array();
      for (const Expired* x : grp) {
        f.lost_pairs.push_back({Lh, x->S});
        ev.push_back(evidence(
            tl, *x->e, fmt::format("the leader on {} expired session {}", Lh, x->e->detail)));
        ev.push_back(evidence(
            tl, *x->est, fmt::format("{}'s client had that session on {}'s server", x->M, x->S)));
        ev.push_back(evidence(tl, *x->closed,
                              fmt::format("{}'s client stayed connected until {} closed it (the "
                                          "closeSession reached {}: the end is before this)",
                                          x->M, x->S, x->S)));
      }
      json groups;
      std::string comment;
      if (servers.size() == 1) {
        // S or the leader's host: whichever was cut off from the rest. A client on a third host
        // that stayed connected to S through the cut (the expired session's own client, when it
        // is not on S's host, is one) shows S reachable: the leader's host was cut off.
        const std::string& S = servers.front();
        const Event* witness = nullptr;
        std::string wh;
        for (const Expired* x : grp)
          if (x->M != S && x->M != Lh) {
            witness = x->est;
            wh = x->M;
            break;
          }
        if (!witness) std::tie(witness, wh) = kept_connected(S, S, Lh, lower, last.time_ns);
        // Or a client on a third host that timed out reading from the leader's server in the
        // same window: the leader's host lost that host too, the one host both losses share.
        if (!witness) {
          for (const auto& c : tl.events) {
            if (c.time_ns < lower) continue;
            if (c.time_ns > close_by) break;
            if (c.type != EventType::kConnectionError || c.num != 110) continue;
            std::string H = nc.resolve(c.host);
            if (H.empty() || H == S || H == Lh || nc.resolve(c.server) != Lh) continue;
            witness = &c;
            wh = H;
            break;
          }
          if (witness)
            ev.push_back(evidence(tl, *witness,
                                  fmt::format("{}'s client timed out reading from {}'s server in "
                                              "the same window: {} lost {} too",
                                              wh, Lh, Lh, wh)));
        } else {
          ev.push_back(evidence(tl, *witness,
                                fmt::format("{}'s client stayed connected to {}'s server through "
                                            "the cut: {} was reachable, {} cut off",
                                            wh, S, S, Lh)));
        }
        const std::string& cut = witness ? Lh : S;
        groups = isolation(cut);
        comment = witness
                      ? fmt::format(
                            "inferred: {} cut off (the leader there expired session {} while its "
                            "client, still connected to {}, heard from it: the leader missed "
                            "{}'s touches; {} shows it was the leader's host that was cut off "
                            "from the rest); {} against the rest",
                            Lh, cands[i].e->detail, S, S, wh, Lh)
                      : fmt::format(
                            "inferred: {} cut off from the leader on {} (its session {} expired "
                            "while its client, still connected to {}, heard from it: the leader "
                            "missed {}'s touches); the smallest grouping, {} against the rest",
                            S, Lh, cands[i].e->detail, S, S, S);
      } else {
        // Every other peer's host among the followers: the leader's host was the one cut off.
        size_t peers_elsewhere = 0;
        for (const auto& [node, h] : nc.node_host)
          if (h != Lh && std::find(servers.begin(), servers.end(), h) != servers.end())
            ++peers_elsewhere;
        bool leader_alone = peers_elsewhere + 1 >= static_cast<size_t>(nc.voters);
        if (leader_alone) {
          groups = isolation(Lh);
        } else {
          json side = json::array(), rest = json::array();
          for (const auto& h : nc.hosts)
            (std::find(servers.begin(), servers.end(), h) != servers.end() ? side : rest)
                .push_back(h);
          groups = json::array({side, rest});
        }
        comment = fmt::format(
            "inferred: {} cut off from {} (the leader there expired {} sessions whose clients "
            "stayed connected to {}: it missed their touches together){}",
            leader_alone ? Lh : fmt::format("{}", fmt::join(servers, ", ")),
            leader_alone ? fmt::format("{}", fmt::join(servers, ", ")) : Lh, grp.size(),
            fmt::join(servers, ", "),
            leader_alone ? "; the leader's host against the rest" : "; those against the rest");
      }
      f.fault =
          json{{"kind", "partition"}, {"groups", groups}, {"comment", comment}, {"evidence", ev}};
      out.push_back(std::move(f));
    }
  }

  // 3b. A server that went silent for its clients while no ZooKeeper peer lost its leader: read
  // timeouts (errno 110) of clients on other hosts, on one server S, that nothing above explains.
  // The smallest explanation is S's host cut off from the others for less than syncLimit*tickTime
  // (longer, its own peer would have lost its leader, analysed above); a pause of S's peer that no
  // line proves (3d) or cuts between S and just those clients' hosts would read the same. Start:
  // after every client's last receive (2/3 of the session before its timeout), before its next ping
  // (1/3 later) was answered; end: after the last timeout, before syncLimit*tickTime had passed.
  // Both fitted.
  {
    for (const Silence& si : read_silences(false)) {
      if (si.leader_lost) continue;  // a leader loss in the same silence: not this case
      const std::string& S = si.S;
      const int64_t lower = si.lower, upper = si.upper;
      const Event* last = si.errs.back();
      if (gc_logged_over(S, lower, last->time_ns)) continue;  // S's JVM stopped (rule 5)
      std::set<std::string> clients;
      json ev = json::array();
      for (const Event* x : si.errs) {
        clients.insert(nc.resolve(x->host));
        ev.push_back(evidence(
            tl, *x,
            fmt::format("{}'s client read timeout on {}'s server: {} silent since {} before",
                        nc.resolve(x->host), S, S, dur(session * 2 / 3))));
      }
      // Which side was cut off: with a single client host M, a client on a third host that
      // kept its connection to S through the silence shows S reachable, so M was the one.
      std::string cut_host = S;
      if (clients.size() == 1) {
        const std::string M = *clients.begin();
        auto [est, H] = kept_connected(S, M, S, lower, last->time_ns);
        if (est) {
          cut_host = M;
          ev.push_back(evidence(tl, *est,
                                fmt::format("{}'s client stayed connected to {}'s server "
                                            "through the silence: {} was reachable, {} cut off",
                                            H, S, S, M)));
        }
      }
      InferredFault f;
      f.at_window = {lower - epoch, upper - epoch};
      f.at_ns = (lower + upper) / 2 - epoch;
      f.end_window = {last->time_ns - epoch, lower + sync_to - epoch};
      f.end_ns = (last->time_ns + lower + sync_to) / 2 - epoch;
      for (const auto& m : clients) f.lost_pairs.push_back({S, m});
      f.fault = json{
          {"kind", "partition"},
          {"groups", isolation(cut_host)},
          {"comment",
           cut_host == S
               ? fmt::format("inferred: {} cut off ({} client(s) on other hosts timed out "
                             "reading from its server while no ZooKeeper peer lost its leader; "
                             "shorter than syncLimit*tickTime, or its own peer would have; a "
                             "pause of its ZooKeeper or cuts to just those hosts would read the "
                             "same)",
                             S, clients.size())
               : fmt::format("inferred: {} cut off (its client timed out reading from {}'s "
                             "server, which a client on another host still reached, while no "
                             "ZooKeeper peer lost its leader)",
                             cut_host, S)},
          {"evidence", ev}};
      out.push_back(std::move(f));
    }
  }

  // 4. Restarts not explained by a crash: "Starting quorum peer" of a peer that had logged before.
  std::set<std::string> seen;
  for (const auto& e : tl.events) {
    std::string n = e.process == ingest::Process::kZookeeper ? zk_node(e)
                    : e.process == ingest::Process::kMeta    ? "meta:" + e.host
                                                             : "";
    // ("Meta rpc server starts at" is also logged on becoming leader: not a restart sign.)
    bool start = e.type == EventType::kPeerStart;
    if (start && seen.count(n)) {
      bool explained = false;
      for (const auto& f : out)
        if (f.fault.value("target", "") == n && f.end_key == "restartAfter") explained = true;
      // A follower killed some time before: its leader's LearnerHandler for it failed (EOF, a
      // reset) after the follower's last line, and the follower logged nothing since.
      const Event* died = nullptr;
      if (!explained && e.process == ingest::Process::kZookeeper) {
        int64_t last_line = INT64_MIN;
        for (const auto& x : tl.events) {
          if (x.time_ns >= e.time_ns) break;
          if (x.process == ingest::Process::kZookeeper && zk_node(x) == n) last_line = x.time_ns;
        }
        std::string h = nc.host_of(n);
        for (const auto& x : tl.events) {
          if (x.time_ns >= e.time_ns) break;
          if (x.time_ns > last_line && x.type == EventType::kLearnerHandlerError && !h.empty() &&
              nc.resolve(x.server) == h && !contains(x.detail, "timed out"))
            died = &x;
        }
      }
      if (!explained && died) {
        InferredFault f;
        f.at_ns = died->time_ns - epoch;
        f.end_ns = e.time_ns - 525 * kMs - epoch;  // JVM boot: 350..700 ms before its first line
        f.end_key = "restartAfter";
        f.fault = json{
            {"kind", "crash"},
            {"target", n},
            {"comment", fmt::format("inferred: follower {} killed (its leader's LearnerHandler saw "
                                    "its connection fail: {}, and it logged nothing until its "
                                    "startup line), restarted",
                                    n, died->detail)},
            {"evidence", json::array({evidence(tl, *died, "the leader's handler for it failed"),
                                      evidence(tl, e, "startup line")})}};
        f.anchors.push_back({"at", key_of(*died)});
        f.anchors.push_back({"end", key_of(e)});
        f.from_startup = true;
        out.push_back(std::move(f));
      } else if (!explained) {
        InferredFault f;
        f.at_ns = e.time_ns - 525 * kMs - epoch;
        f.fault =
            json{{"kind", "restart"},
                 {"target", n},
                 {"comment",
                  fmt::format("inferred: {} restarted (startup line after earlier lines)", n)},
                 {"evidence", json::array({evidence(tl, e, "startup line")})}};
        f.anchors.push_back({"at", key_of(e)});
        out.push_back(std::move(f));
      }
    }
    if (!n.empty()) seen.insert(n);
  }

  // 4b. A meta process killed and started again: its QuorumCluster starts from Stopped
  // ("Stopped --> Running_Connecting") when its last state was not Stopped. A meta that stopped
  // itself (session expired, "Stopping quorum cluster.") logs "--> Stopped" first; a fresh process
  // starts from Stopped whatever the previous one was doing. The kill came after the meta's last
  // line before it; when the ZooKeeper leader then expired the session the meta had (before the new
  // process connected), the kill lies one session timeout before that expiry, within a tick.
  {
    std::map<std::string, std::string> qc_state;    // meta node -> last QuorumCluster state
    std::map<std::string, int64_t> last_line;       // meta node -> time of its last line
    std::map<std::string, std::string> session_of;  // meta node -> its client's session id
    for (const auto& e : tl.events) {
      if (e.process != ingest::Process::kMeta || e.host.empty()) continue;
      std::string n = "meta:" + e.host;
      bool restarted = e.type == EventType::kQuorumClusterState && e.prev == "Stopped" &&
                       e.state.rfind("Running", 0) == 0 && qc_state.count(n) &&
                       qc_state[n] != "Stopped";
      if (restarted) {
        bool explained = false;
        for (const auto& f : out)
          if (f.fault.value("target", "") == n && f.end_key == "restartAfter" && f.end_ns &&
              *f.end_ns + epoch <= e.time_ns && *f.end_ns + epoch > last_line[n])
            explained = true;
        if (!explained) {
          int64_t lo = last_line[n], hi = e.time_ns - kMs;
          const Event* expiry = nullptr;
          if (session_of.count(n)) {
            for (const auto& x : tl.events) {
              if (x.time_ns <= lo) continue;
              if (x.time_ns > e.time_ns + 2 * session) break;
              if (x.type == EventType::kSessionExpiry && x.detail == session_of[n]) {
                expiry = &x;
                break;
              }
            }
          }
          json ev = json::array();
          ev.push_back(evidence(tl, e, "its QuorumCluster starts from Stopped: a new process"));
          if (expiry) {
            int64_t st = expiry->num > 0 ? expiry->num * kMs : session;
            lo = std::max(lo, expiry->time_ns - st - tick - tick / 2);
            hi = std::min(hi, expiry->time_ns - st + tick / 2);
            ev.push_back(evidence(tl, *expiry,
                                  "the leader expired the session the killed process had: the kill "
                                  "came about one session timeout before"));
          }
          if (hi > lo) {
            InferredFault f;
            f.at_ns = lo + (hi - lo) / 2 - epoch;
            f.at_window = std::make_pair(lo - epoch, hi - epoch);
            f.end_ns = e.time_ns - epoch;
            f.end_key = "restartAfter";
            f.fault =
                json{{"kind", "crash"},
                     {"target", n},
                     {"comment",
                      fmt::format("inferred: {} killed after its last line ({}) and started again "
                                  "(its QuorumCluster left Stopped while its last state was {})",
                                  n, ingest::format_utc(last_line[n]), qc_state[n])},
                     {"evidence", ev}};
            f.from_startup = true;
            out.push_back(std::move(f));
          }
        }
      }
      if (e.type == EventType::kQuorumClusterState) qc_state[n] = e.state;
      if (e.type == EventType::kClientSessionEstablished && !e.detail.empty())
        session_of[n] = e.detail;
      last_line[n] = e.time_ns;
    }
  }

  // 7. (After 1-4, whose faults it may replace; before 5 and 6.) A quorum-port fault: a peer's
  // quorum port (2888) unreachable while its election port works.
  // Followers elect a leader on host H (the election over port 3888 reached it) and then hang
  // connecting to H's quorum port: `Exception when following the leader` caused by `Failed connect
  // to /H:P` more than a second after they started following (a SYN went unanswered; an
  // unreachable host would not have been elected, a dead port would refuse at once), and H's own
  // peer hangs the same way connecting to the others' leaders. The host common to the failed
  // connects of two or more other hosts is H, P the port in the lines. It takes precedence over
  // what rules 2-4 read into the same lines (the followers' read timeouts at the start, a leader
  // "isolated" or "killed" at every failed round): those faults are replaced, the first one's
  // start window kept. Start: that window, else before the first hanging attempt began; end: after
  // the last hanging attempt began, before H's peer next reached broadcast; both fitted.
  {
    const int init = doc.contains("zk") ? doc["zk"].value("initLimit", 10) : 10;
    struct Hang {
      const Event* e;
      const KeyEvent* began;  // the follower's `following` state line before it
      std::string src, dst;   // hosts: the follower's, the leader's
      int port;
    };
    std::vector<Hang> hangs;
    for (const Event* x : fex) {
      auto p = x->detail.find("Failed connect to ");
      if (p == std::string::npos) continue;
      std::string a = x->detail.substr(p + 18);
      a = a.substr(0, a.find_first_of(" ("));
      auto colon = a.rfind(':');
      if (colon == std::string::npos) continue;
      int port = std::atoi(a.c_str() + colon + 1);
      std::string node = zk_node(*x), src = nc.host_of(node), dst = nc.resolve(a);
      if (port <= 0 || src.empty() || dst.empty() || src == dst) continue;
      const KeyEvent* began = nullptr;
      for (const auto& k : keys) {
        if (k.t_ns >= x->time_ns) break;
        if (k.node == node && k.type == "state") began = k.state == "following" ? &k : nullptr;
      }
      if (!began || x->time_ns - began->t_ns < kS) continue;
      hangs.push_back({x, began, src, dst, port});
    }
    const int64_t gap = std::max<int64_t>(60 * kS, 3 * init * tick);
    std::vector<bool> done(hangs.size(), false);
    for (;;) {
      // The host with the most counterparts among the hanging connects not yet explained.
      std::string H;
      int port = 0;
      size_t most = 0;
      for (const auto& h : nc.hosts) {
        std::map<int, std::set<std::string>> other;
        for (size_t i = 0; i < hangs.size(); ++i) {
          if (done[i]) continue;
          if (hangs[i].dst == h) other[hangs[i].port].insert(hangs[i].src);
          if (hangs[i].src == h) other[hangs[i].port].insert(hangs[i].dst);
        }
        for (const auto& [p, s] : other)
          if (s.size() > most) most = s.size(), H = h, port = p;
      }
      // No host with two counterparts: a port cut between one pair of hosts only, when the pair's
      // connects hung again and again (3 or more) while a third host's peer synced with a leader
      // (so the ensemble had a quorum across the same port: not the whole port down).
      std::string C;  // pair mode: the one counterpart
      if (most < 2) {
        std::map<std::tuple<std::string, std::string, int>, std::vector<size_t>> pairs;
        for (size_t i = 0; i < hangs.size(); ++i) {
          if (done[i]) continue;
          const Hang& g = hangs[i];
          pairs[{std::min(g.src, g.dst), std::max(g.src, g.dst), g.port}].push_back(i);
        }
        size_t most_hangs = 0;
        for (const auto& [k, v] : pairs) {
          if (v.size() < 3 || v.size() <= most_hangs) continue;
          const auto& [a, b, p] = k;
          // In broadcast as a follower when the pair's first hanging connect failed, or entering
          // it while they hung.
          int64_t t0 = hangs[v.front()].e->time_ns, t1 = hangs[v.back()].e->time_ns;
          bool third_synced = false;
          std::map<std::string, bool> following_bc;  // third hosts' peers: in broadcast at t0
          for (const auto& kk : keys) {
            if (kk.t_ns > t1) break;
            std::string h = nc.host_of(kk.node);
            if (h == a || h == b || (kk.type != "state" && kk.type != "broadcast")) continue;
            bool bc = kk.type == "broadcast" && kk.state == "following";
            if (kk.t_ns <= t0)
              following_bc[kk.node] = bc;
            else if (bc)
              third_synced = true;
          }
          for (const auto& [n, bc] : following_bc) third_synced = third_synced || bc;
          if (!third_synced) continue;
          most_hangs = v.size();
          H = hangs[v.front()].dst;  // the leader's side of the first hang
          C = H == a ? b : a;
          port = p;
        }
        if (C.empty()) break;
      }
      // One fault: the first run of H's hanging connects on that port (gaps under `gap`).
      std::vector<size_t> run;
      for (size_t i = 0; i < hangs.size(); ++i) {
        const Hang& g = hangs[i];
        if (done[i] || g.port != port || (g.src != H && g.dst != H)) continue;
        if (!C.empty() && g.src != C && g.dst != C) continue;
        if (!run.empty() && g.e->time_ns - hangs[run.back()].e->time_ns > gap) break;
        run.push_back(i);
      }
      for (size_t i : run) done[i] = true;
      std::set<std::string> counterparts;
      for (size_t i : run) counterparts.insert(hangs[i].src == H ? hangs[i].dst : hangs[i].src);
      if (counterparts.size() < (C.empty() ? 2u : 1u)) continue;
      int64_t first_began = INT64_MAX, last_began = INT64_MIN, last_fail = INT64_MIN;
      for (size_t i : run) {
        first_began = std::min(first_began, hangs[i].began->t_ns);
        last_began = std::max(last_began, hangs[i].began->t_ns);
        last_fail = std::max(last_fail, hangs[i].e->time_ns);
      }
      // The end: before H's peer next reached broadcast (it synced across the port again).
      const KeyEvent* back = nullptr;
      for (const auto& k : keys)
        if (k.t_ns > last_began && k.type == "broadcast" && nc.host_of(k.node) == H) {
          back = &k;
          break;
        }
      int64_t hi = back ? back->t_ns : std::max(last_fail, keys.empty() ? 0 : keys.back().t_ns);
      // What rules 1-4 made of the same lines (not a host's own unreachable errors, not restarts).
      int64_t from = first_began - sync_to - tick;
      std::optional<InferredFault> opening;
      json ev = json::array();
      // Pair mode replaces only what was read into the pair's own failed rounds (a leader on H or
      // C "killed" or "isolated" at each): the faults naming H or C (or a process on them) that
      // start once the first hanging connect began; what came before is a fault of its own.
      auto names_pair = [&](const InferredFault& f) {
        std::string d = f.fault.dump();
        for (const std::string& h : {H, C}) {
          if (contains(d, "\"" + h + "\"")) return true;
          for (const auto& [n, hh] : host_of_node)
            if (hh == h && contains(d, "\"" + n + "\"")) return true;
        }
        return false;
      };
      for (auto it = out.begin(); it != out.end();) {
        std::string kind = it->fault.value("kind", "");
        bool own =
            kind == "restart" || it->from_startup ||
            (kind == "ifdown" && contains(it->fault.value("comment", ""), "unreachable from"));
        bool keep_pair = !C.empty() && (it->at_ns + epoch < first_began || !names_pair(*it));
        // (Only up to the last hanging connect's failure: a fault after it, before the end bound,
        // is read from other lines: a crash of the leader elected after the heal, say.)
        if (own || keep_pair || it->at_ns + epoch < from ||
            it->at_ns + epoch > std::min(hi, last_fail)) {
          ++it;
          continue;
        }
        if (!opening && it->at_window && it->at_ns + epoch < first_began &&
            contains(it->fault.dump(), "\"" + H + "\"")) {
          opening = *it;  // (kept for its window and evidence)
        }
        it = out.erase(it);
      }
      InferredFault f;
      if (opening) {
        f.at_window = opening->at_window;
        f.at_ns = opening->at_ns;
        for (const auto& e : opening->fault.value("evidence", json::array())) ev.push_back(e);
      } else {
        f.at_window = {first_began - sync_to - epoch, first_began - epoch};
        f.at_ns = first_began - sync_to / 2 - epoch;
      }
      std::map<std::string, int> shown;  // the first two and the last hanging connect per pair
      for (size_t k = 0; k < run.size(); ++k) {
        const Hang& g = hangs[run[k]];
        std::string pair = g.src + ">" + g.dst;
        bool last = true;
        for (size_t j = k + 1; j < run.size(); ++j)
          if (hangs[run[j]].src + ">" + hangs[run[j]].dst == pair) last = false;
        if (++shown[pair] > 2 && !last) continue;
        ev.push_back(evidence(
            tl, *g.e,
            fmt::format("{} elected the leader on {} (election port reachable) but its connect to "
                        "{}:{} hung {} and failed",
                        zk_node(*g.e), g.dst, g.dst, port, dur(g.e->time_ns - g.began->t_ns))));
      }
      int64_t lo = std::max(last_began, f.at_window->second + epoch);
      if (back)
        ev.push_back(evidence(*back, fmt::format("{} in broadcast again: the port worked; the end "
                                                 "is before this",
                                                 back->node)));
      f.end_window = {lo - epoch, std::max(lo, hi) - epoch};
      f.end_ns = (lo + std::max(lo, hi)) / 2 - epoch;
      for (const auto& c : counterparts) f.lost_pairs.push_back({H, c});
      if (!C.empty()) {
        f.fault = json{
            {"kind", "cut"},
            {"from", H},
            {"to", C},
            {"both", true},
            {"port", port},
            {"comment",
             fmt::format("inferred: port {} black-holed between {} and {} only, both ways ({} "
                         "hanging connects between them, while {}'s other peers synced across the "
                         "same port and the pair kept electing over the election port); the "
                         "failed rounds read as crashes or isolations of the pair are replaced",
                         port, H, C, run.size(), H)},
            {"evidence", ev}};
        out.push_back(std::move(f));
        continue;
      }
      f.fault = json{
          {"kind", "partition"},
          {"host", H},
          {"port", port},
          {"comment",
           fmt::format("inferred: {}'s port {} black-holed both ways ({} hanging connects to or "
                       "from it by peers on {} hosts, who kept electing over the election port); "
                       "the other faults read into those lines are replaced",
                       H, port, run.size(), counterparts.size())},
          {"evidence", ev}};
      out.push_back(std::move(f));
    }
  }

  // 5. GC pauses with a wall-clock date: a pause of that host's ZooKeeper JVM.
  for (const auto& e : tl.events) {
    // Sub-millisecond safepoint stops (PrintGCApplicationStoppedTime) are noise, and a GC pause
    // logged as a "GC pause" line is also logged as such a stop; GC pauses count at any length.
    if (e.type != EventType::kGcPause || e.num < 1 || (e.state == "safepoint" && e.num < 1000))
      continue;
    std::string node;
    for (const auto& [n, h] : host_of_node)
      if (h == e.host) node = n;
    if (node.empty()) continue;
    InferredFault f;
    f.at_ns = e.time_ns - epoch;
    f.end_ns = e.time_ns + e.num * 1000 - epoch;
    f.fault = json{{"kind", "pause"},
                   {"target", node},
                   {"comment", fmt::format("inferred: GC pause {} of {} ({})", dur(e.num * 1000),
                                           node, e.state)},
                   {"evidence", json::array({evidence(tl, e, "GC log pause")})}};
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(), [](const InferredFault& a, const InferredFault& b) {
    return a.at_ns < b.at_ns;
  });

  // 6. A flaky link: three or more short stalls of a single host pair, all involving one host and
  // each within 5 minutes of the previous one, are packet loss on that host's links (every lost
  // segment costs a retransmission time-out, 200 ms doubling; a run of them outlasts
  // syncLimit*tickTime or 2/3 of a session), not so many discrete cuts and pauses. They become one
  // loss fault from the first stall to the last; its rate is fitted by simulation (approximate:
  // which packets were lost is not in the logs).
  auto stall = [&](const InferredFault& f) {
    return f.lost_pairs.size() == 1 && f.end_ns && *f.end_ns - f.at_ns <= 10 * kS;
  };
  for (;;) {
    std::vector<size_t> run_best;
    std::string host_best;
    // Both ends of one flaky link have the same stalls: the lossy one is the follower's side (a
    // lossy leader host would stall every follower), i.e. the host whose peer logged more
    // "Exception when following the leader" over the stalls.
    auto follower_side = [&](const std::string& h, const std::vector<size_t>& run) {
      int n = 0;
      for (const Event* x : fex)
        if (nc.host_of(zk_node(*x)) == h && x->time_ns - epoch >= out[run.front()].at_ns &&
            x->time_ns - epoch <= out[run.back()].at_ns + 10 * kS)
          ++n;
      return n;
    };
    auto better = [&](const std::vector<size_t>& run, const std::string& h) {
      if (run.size() != run_best.size()) return run.size() > run_best.size();
      return !run.empty() && follower_side(h, run) > follower_side(host_best, run_best);
    };
    for (const auto& h : nc.hosts) {
      std::vector<size_t> run;
      for (size_t i = 0; i < out.size(); ++i) {
        const auto& f = out[i];
        if (!stall(f) || (f.lost_pairs[0].first != h && f.lost_pairs[0].second != h)) continue;
        if (!run.empty() && f.at_ns - out[run.back()].at_ns > 300 * kS) {
          if (better(run, h)) run_best = run, host_best = h;
          run.clear();
        }
        run.push_back(i);
      }
      if (better(run, h)) run_best = run, host_best = h;
    }
    if (run_best.size() < 3) break;
    InferredFault loss;
    const InferredFault& first = out[run_best.front()];
    loss.at_ns = first.at_window ? first.at_window->first : first.at_ns;
    loss.end_ns = loss.at_ns;
    json ev = json::array();
    for (size_t i : run_best) {
      const InferredFault& f = out[i];
      loss.end_ns = std::max(*loss.end_ns, f.end_window ? f.end_window->second : *f.end_ns);
      json fe = f.fault.value("evidence", json::array());
      if (fe.is_array() && !fe.empty()) {
        json x = fe[0];
        x["what"] =
            fmt::format("stall {}<->{} ({} {}): {}", f.lost_pairs[0].first, f.lost_pairs[0].second,
                        f.fault.value("kind", ""), dur(*f.end_ns - f.at_ns), x.value("what", ""));
        ev.push_back(x);
      }
    }
    loss.fault = json{
        {"kind", "loss"},
        {"host", host_best},
        {"loss", 0.2},
        {"comment",
         fmt::format("inferred: packet loss on {}'s links: {} short stalls of one of its links "
                     "between {} and {} (each a cut in one direction or both, healed within "
                     "seconds), not discrete faults. The rate is fitted by simulation to the "
                     "recording and is approximate: which packets were lost is not in the logs, so "
                     "a replay cannot match event by event",
                     host_best, run_best.size(), ingest::format_utc(loss.at_ns + epoch),
                     ingest::format_utc(*loss.end_ns + epoch))},
        {"evidence", ev}};
    loss.fit_param = "loss";
    loss.fit_values = {0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5};
    for (auto it = run_best.rbegin(); it != run_best.rend(); ++it)
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(*it));
    out.push_back(std::move(loss));
    std::stable_sort(out.begin(), out.end(), [](const InferredFault& a, const InferredFault& b) {
      return a.at_ns < b.at_ns;
    });
  }
  return out;
}

}  // namespace zksim::replay
