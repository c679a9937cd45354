#include "tools/replay/infer_net.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "sim/time.h"
#include "tools/ingest/parse.h"

namespace zksim::replay::detail {

using ingest::Event;
using ingest::EventType;
using ingest::Timeline;
using nlohmann::json;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;
// A LOOKING peer that can reach a leader in broadcast (or a quorum of LOOKING peers that can reach
// each other) settles within about half a second (FLE's 200 ms finalize wait, a connect, a sync);
// stuck for this long, it could not.
constexpr int64_t kStuck = 2 * kS;
// Two LOOKING peers that exchange notifications time out in lockstep (each one's time-out sends
// to all, which re-arms the other's wait): two time-outs this close are evidence of a working link.
constexpr int64_t kLockstep = 2 * kMs;
constexpr size_t kMaxEvidence = 24;

bool contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

bool is_timeout(const std::string& cause) {
  return contains(cause, "timed out") || contains(cause, "SocketTimeoutException");
}

std::string dur(int64_t ns) {
  return sim::format_duration(sim::Duration::ns(ns));
}

// "Not sufficient followers synced, only synced with sids: [ [4, 5] ]", "[[1, 3, 4]]" -> ids.
std::vector<int> parse_sids(std::string_view s) {
  std::vector<int> out;
  auto p = s.find("sids:");
  if (p != std::string_view::npos) s = s.substr(p + 5);
  int v = -1;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') {
      v = (v < 0 ? 0 : v * 10) + (ch - '0');
    } else {
      if (v >= 0) out.push_back(v);
      v = -1;
    }
  }
  if (v >= 0) out.push_back(v);
  return out;
}

using Pair = std::pair<std::string, std::string>;  // undirected: sorted
Pair upair(const std::string& a, const std::string& b) {
  return a < b ? Pair{a, b} : Pair{b, a};
}

struct NodeState {
  std::string state;
  int64_t since = 0;
  const KeyEvent* line = nullptr;
};

// Set partitions of n items as restricted growth strings, best first by (groups, cross pairs).
struct Grouping {
  std::vector<int> of;  // group index per host
  int groups = 0;
  int cross = 0;
};

}  // namespace

std::string zk_node(const Event& e) {
  return e.myid >= 0 ? fmt::format("zk:{}", e.myid) : fmt::format("zk@{}", e.host);
}

std::string where(const Timeline& tl, const Event& e) {
  std::string f = e.file < tl.files.size() ? tl.files[e.file].path : "?";
  return fmt::format("{}:{}", f, e.line);
}

json evidence(const Timeline& tl, const Event& e, std::string what) {
  return json{
      {"line", where(tl, e)}, {"time", ingest::format_utc(e.time_ns)}, {"what", std::move(what)}};
}

json evidence(const KeyEvent& k, std::string what) {
  return json{{"line", k.where}, {"time", ingest::format_utc(k.t_ns)}, {"what", std::move(what)}};
}

std::string NetContext::resolve(std::string a) const {
  while (!a.empty() && a.front() == '/') a.erase(a.begin());
  auto colon = a.rfind(':');
  if (colon != std::string::npos) a.resize(colon);
  auto it = addr_host.find(a);
  return it == addr_host.end() ? "" : it->second;
}

std::string NetContext::host_of(const std::string& node) const {
  auto it = node_host.find(node);
  return it == node_host.end() ? "" : it->second;
}

NetEpisode infer_network_episode(const NetContext& c, const std::string& L,
                                 const std::vector<const Event*>& group,
                                 std::set<const Event*>& used) {
  const Timeline& tl = *c.tl;
  const std::vector<KeyEvent>& keys = *c.keys;
  NetEpisode out;
  const int64_t g0 = group.front()->time_ns;
  const std::string Lh = c.host_of(L);
  if (Lh.empty()) return out;
  const int64_t brk_from = g0 - 200 * kMs, brk_to = g0 + c.tick + 200 * kMs;
  const int quorum = c.voters / 2 + 1;

  // Directed evidence: cut[{a, b}] = b stopped hearing a; up[{a, b}] = something of a reached b.
  std::map<Pair, json> cut, up;
  auto add = [](std::map<Pair, json>& m, const std::string& a, const std::string& b, json e) {
    if (a.empty() || b.empty() || a == b) return;
    json& v = m[{a, b}];
    if (!v.is_array()) v = json::array();
    v.push_back(std::move(e));
  };
  json ev = json::array();
  auto note = [&](json e) {
    for (const auto& x : ev)
      if (x["line"] == e["line"] && x["what"] == e["what"]) return;
    if (ev.size() < kMaxEvidence) ev.push_back(std::move(e));
  };
  // The fault began after the last packet each observer received and before the next one was due.
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  auto bound = [&](int64_t last_rx, int64_t period) {
    lo = std::max(lo, last_rx + kMs);
    hi = std::min(hi, last_rx + period - kMs);
  };
  std::map<std::string, json> lh_timeouts;  // learner host -> evidence (F -> L silence)
  std::set<std::string> same_host_cut;      // a meta lost its own host's server: interface down

  // 1. The break: who lost whom when the followers' exceptions fired.
  for (const Event& e : tl.events) {
    if (e.time_ns < brk_from) continue;
    if (e.time_ns > brk_to) break;
    if (e.type == EventType::kFollowerException) {
      std::string F = zk_node(e), Fh = c.host_of(F);
      if (F == L || Fh.empty()) continue;
      used.insert(&e);
      if (is_timeout(e.detail)) {
        json x = evidence(tl, e,
                          fmt::format("{} read timeout on leader {}: {} -> {} silent since its "
                                      "last ping {} before",
                                      F, L, Lh, Fh, dur(c.sync_to)));
        add(cut, Lh, Fh, x);
        note(x);
        bound(e.time_ns - c.sync_to, c.tick / 2);
      } else {
        json x = evidence(tl, e,
                          fmt::format("{} saw leader {} close the connection ({}): {} -> {} "
                                      "still delivered",
                                      F, L, e.detail.substr(0, e.detail.find(' ')), Lh, Fh));
        add(up, Lh, Fh, x);
        note(x);
      }
    } else if (e.type == EventType::kLearnerHandlerError && zk_node(e) == L) {
      std::string X = c.resolve(e.server);
      if (X.empty()) continue;
      used.insert(&e);
      if (is_timeout(e.detail)) {
        lh_timeouts[X] =
            evidence(tl, e,
                     fmt::format("leader {}'s LearnerHandler for {} timed out: {} -> {} silent "
                                 "since {} before",
                                 L, X, X, Lh, dur(c.sync_to)));
        bound(e.time_ns - c.sync_to, c.tick / 2);
      } else {
        json x = evidence(tl, e,
                          fmt::format("{} closed its connection to leader {}: {} -> {} "
                                      "still delivered",
                                      X, L, X, Lh));
        add(up, X, Lh, x);
        note(x);
      }
    } else if (e.type == EventType::kLeaderQuorumLoss && zk_node(e) == L) {
      used.insert(&e);
      std::vector<int> sids = parse_sids(e.detail);
      json x = evidence(tl, e, fmt::format("leader {} lost its quorum: {}", L, e.detail));
      note(x);
      for (int s : sids) add(up, c.host_of(fmt::format("zk:{}", s)), Lh, x);
    }
  }
  // A follower only answers the leader's pings: its silence towards the leader is explained by the
  // leader's silence towards it; otherwise it is a cut of its own (follower -> leader).
  for (auto& [X, x] : lh_timeouts) {
    note(x);
    if (!cut.count({Lh, X})) add(cut, X, Lh, x);
  }
  if (lo == INT64_MIN) return out;  // no timeout at all: not a network silence
  // Followers that went on following the leader through the break still talk to it.
  std::map<std::string, NodeState> st;
  for (const auto& k : keys) {
    if (k.t_ns >= brk_from) break;
    if (k.type == "state") st[k.node] = {k.state, k.t_ns, &k};
  }
  for (const auto& [n, s] : st) {
    if (n == L || s.state != "following") continue;
    bool moved = false;
    for (const auto& k : keys)
      if (k.node == n && k.t_ns >= brk_from && k.t_ns <= brk_to &&
          (k.type == "state" || k.type == "follower_exception"))
        moved = true;
    if (moved) continue;
    json x = evidence(*s.line, fmt::format("{} went on following {} through the break", n, L));
    add(up, Lh, c.host_of(n), x);
    add(up, c.host_of(n), Lh, x);
    note(x);
  }
  // C clients whose read timeouts fall in the same silence (last receive = t - 2/3 session).
  for (const Event& e : tl.events) {
    if (e.time_ns < g0 - c.sync_to - c.session) continue;
    if (e.time_ns > brk_to) break;
    if (e.type != EventType::kConnectionError || e.num != 110) continue;
    std::string M = c.resolve(e.host), X = c.resolve(e.server);
    if (M.empty() || X.empty()) continue;
    int64_t rx = e.time_ns - c.session * 2 / 3;
    if (rx + kMs > hi || rx + c.session / 3 - kMs < lo) continue;  // another silence
    used.insert(&e);
    json x = evidence(tl, e,
                      fmt::format("{}'s client read timeout on {}'s server: {} -> {} silent since "
                                  "{} before",
                                  M, X, X, M, dur(c.session * 2 / 3)));
    note(x);
    if (M == X)
      same_host_cut.insert(M);
    else
      add(cut, X, M, x);
    bound(rx, c.session / 3);
  }
  if (hi < lo) hi = lo;

  // 2. After the break, until the groups talk again: who elects with whom, who stays stuck.
  std::map<Pair, json> cut_pairs, up_pairs;
  for (const auto& [p, x] : cut) cut_pairs[upair(p.first, p.second)] = x[0];
  for (const auto& [p, x] : up) up_pairs[upair(p.first, p.second)] = x[0];
  struct Item {
    int64_t t;
    const KeyEvent* key = nullptr;
    std::string a, b;  // an up-pair observation (hosts)
    json ev;
    bool weak = false;  // lockstep time-outs: chance coincidences across a cut are ignored
  };
  std::vector<Item> items;
  for (const auto& k : keys)
    if (k.t_ns >= brk_from) items.push_back({k.t_ns, &k, "", "", nullptr});
  std::map<std::string, std::vector<const Event*>> nto;  // LOOKING time-outs per peer
  for (const Event& e : tl.events) {
    if (e.time_ns < g0) continue;
    if (e.type == EventType::kLeaderQuorumFormed) {
      std::string N = c.host_of(zk_node(e));
      for (int s : parse_sids(e.detail)) {
        std::string S = c.host_of(fmt::format("zk:{}", s));
        if (S.empty() || S == N) continue;
        items.push_back(
            {e.time_ns, nullptr, S, N,
             evidence(tl, e,
                      fmt::format("{} formed a quorum with sids {}", zk_node(e), e.detail))});
      }
    } else if (e.type == EventType::kClientSessionEstablished) {
      std::string M = c.resolve(e.host), X = c.resolve(e.server);
      if (M.empty() || X.empty() || M == X) continue;
      items.push_back({e.time_ns, nullptr, M, X,
                       evidence(tl, e,
                                fmt::format("{}'s client established a session on {}'s "
                                            "server",
                                            M, X))});
    } else if (e.type == EventType::kNotificationTimeout && e.myid >= 0) {
      nto[zk_node(e)].push_back(&e);
    }
  }
  for (auto a = nto.begin(); a != nto.end(); ++a) {
    for (auto b = std::next(a); b != nto.end(); ++b) {
      int n = 0;
      for (const Event* x : a->second) {
        for (const Event* y : b->second) {
          if (std::llabs(x->time_ns - y->time_ns) > kLockstep) continue;
          if (++n == 2) {
            items.push_back(
                {std::max(x->time_ns, y->time_ns), nullptr, c.host_of(a->first),
                 c.host_of(b->first),
                 evidence(tl, *x,
                          fmt::format("{} and {} time out in lockstep while LOOKING ({} and {}): "
                                      "they exchange notifications",
                                      a->first, b->first, ingest::format_utc(x->time_ns),
                                      ingest::format_utc(y->time_ns))),
                 true});
          }
        }
      }
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& x, const Item& y) { return x.t < y.t; });

  std::string lead;  // the peer leading in broadcast
  int64_t lead_since = 0;
  if (st.count(L) && st[L].state == "leading") {
    lead = L;
    for (const auto& k : keys) {
      if (k.t_ns >= brk_from) break;
      if (k.node == L && k.type == "broadcast" && k.state == "leading") lead_since = k.t_ns;
    }
  }
  std::optional<std::set<std::string>> no_quorum;  // hosts of peers stuck LOOKING, no leader
  json heal;
  int64_t heal_t = INT64_MAX;
  auto leading_node = [&](const std::string& except) {
    std::string best;
    int64_t since = -1;
    for (const auto& [n, s] : st)
      if (n != except && s.state == "leading" && s.since > since) best = n, since = s.since;
    return best;
  };
  auto stuck = [&](int64_t t) {
    if (!lead.empty()) {
      for (const auto& [n, s] : st) {
        if (s.state != "looking" || n == lead || !s.line) continue;
        int64_t from = std::max(s.since, lead_since);
        if (t - from < kStuck) continue;
        std::string a = c.host_of(n), b = c.host_of(lead);
        if (a.empty() || b.empty() || a == b || cut_pairs.count(upair(a, b))) continue;
        json x = evidence(*s.line, fmt::format("{} stayed LOOKING for more than {} while {} led "
                                               "in broadcast: it could not reach {}",
                                               n, dur(kStuck), lead, lead));
        cut_pairs[upair(a, b)] = x;
        note(x);
      }
    } else if (!no_quorum) {
      std::set<std::string> looking;
      int64_t latest = 0;
      const KeyEvent* line = nullptr;
      for (const auto& [n, s] : st) {
        if (s.state == "leading") return;
        if (s.state == "looking" && t - s.since >= kStuck) {
          looking.insert(c.host_of(n));
          if (s.since >= latest) latest = s.since, line = s.line;
        }
      }
      if (static_cast<int>(looking.size()) < quorum || !line) return;
      no_quorum = looking;
      note(evidence(*line, fmt::format("no leader for more than {} while {} peers were LOOKING "
                                       "({} make a quorum): no group held a quorum",
                                       dur(kStuck), looking.size(), quorum)));
    }
  };
  for (const Item& it : items) {
    stuck(it.t);
    if (it.key) {
      const KeyEvent& k = *it.key;
      if (k.type == "follower_exception" && k.t_ns > brk_to) {
        heal_t = k.t_ns;  // another incident begins: this one is bounded by it
        heal =
            evidence(k, "the next incident's first line: the fault ended before it at the latest");
        break;
      }
      if (k.type == "state") {
        if ((k.state == "following" || k.state == "leading") && no_quorum &&
            no_quorum->count(c.host_of(k.node))) {
          heal_t = k.t_ns;
          heal = evidence(k, fmt::format("{} settled ({}) after the stuck election: a quorum "
                                         "could talk again",
                                         k.node, k.state));
          break;
        }
        st[k.node] = {k.state, k.t_ns, &k};
        if (k.node == lead && k.state != "leading") lead.clear();
      } else if (k.type == "broadcast" && k.state == "leading") {
        lead = k.node;
        lead_since = k.t_ns;
      } else if (k.type == "broadcast" && k.state == "following") {
        std::string N = leading_node(k.node);
        std::string a = c.host_of(k.node), b = c.host_of(N);
        if (N.empty() || a.empty() || b.empty() || a == b) continue;
        if (cut_pairs.count(upair(a, b))) {
          const NodeState& s = st[k.node];
          heal_t = s.line ? s.since : k.t_ns;
          heal = evidence(
              s.line ? *s.line : k,
              fmt::format("{} joined leader {} across the cut: the fault was over", k.node, N));
          break;
        }
        if (!up_pairs.count(upair(a, b)))
          up_pairs[upair(a, b)] = evidence(k, fmt::format("{} synced with leader {}", k.node, N));
      }
      continue;
    }
    if (it.a.empty() || it.b.empty() || it.a == it.b) continue;
    if (cut_pairs.count(upair(it.a, it.b))) {
      if (it.weak) continue;
      heal_t = it.t;
      heal = it.ev;
      heal["what"] = heal["what"].get<std::string>() + " (across the cut: the fault was over)";
      break;
    }
    if (!up_pairs.count(upair(it.a, it.b))) up_pairs[upair(it.a, it.b)] = it.ev;
  }
  for (const auto& [p, x] : up_pairs) note(x);

  // 3. One-way cuts: a direction silent while the other one demonstrably delivered.
  std::vector<Pair> oneway;
  for (const auto& [p, x] : cut)
    if (up.count({p.second, p.first})) oneway.push_back(p);
  std::set<Pair> explained;
  for (const auto& p : oneway) explained.insert(upair(p.first, p.second));

  // 4. The fewest groups consistent with the symmetric evidence.
  const std::vector<std::string>& H = c.hosts;
  const int n = static_cast<int>(H.size());
  std::map<std::string, int> idx;
  for (int i = 0; i < n; ++i) idx[H[i]] = i;
  std::vector<std::pair<int, int>> must_split, must_join;
  for (const auto& [p, x] : cut_pairs)
    if (!explained.count(p) && idx.count(p.first) && idx.count(p.second))
      must_split.push_back({idx[p.first], idx[p.second]});
  for (const auto& [p, x] : up_pairs)
    if (!explained.count(p) && !cut_pairs.count(p) && idx.count(p.first) && idx.count(p.second))
      must_join.push_back({idx[p.first], idx[p.second]});
  std::vector<int> noq_voters;  // per host: is it a stuck LOOKING peer's host
  if (no_quorum)
    for (int i = 0; i < n; ++i) noq_voters.push_back(no_quorum->count(H[i]) ? 1 : 0);
  std::optional<Grouping> best;
  int ties = 0;
  if (!must_split.empty() && n <= 10) {
    std::vector<int> a(static_cast<size_t>(n), 0);
    // Restricted growth strings: a[0] = 0, a[i] <= 1 + max(a[0..i-1]).
    std::function<void(int, int)> rec = [&](int i, int mx) {
      if (i == n) {
        for (auto [x, y] : must_split)
          if (a[static_cast<size_t>(x)] == a[static_cast<size_t>(y)]) return;
        for (auto [x, y] : must_join)
          if (a[static_cast<size_t>(x)] != a[static_cast<size_t>(y)]) return;
        if (no_quorum) {
          std::vector<int> cnt(static_cast<size_t>(mx + 1), 0);
          for (int k = 0; k < n; ++k)
            cnt[static_cast<size_t>(a[static_cast<size_t>(k)])] +=
                noq_voters[static_cast<size_t>(k)];
          for (int v : cnt)
            if (v >= quorum) return;
        }
        Grouping g{a, mx + 1, 0};
        for (int x = 0; x < n; ++x)
          for (int y = x + 1; y < n; ++y)
            if (a[static_cast<size_t>(x)] != a[static_cast<size_t>(y)]) ++g.cross;
        if (!best || std::tie(g.groups, g.cross) < std::tie(best->groups, best->cross)) {
          best = g;
          ties = 1;
        } else if (std::tie(g.groups, g.cross) == std::tie(best->groups, best->cross)) {
          ++ties;
        }
        return;
      }
      for (int v = 0; v <= mx + 1; ++v) {
        a[static_cast<size_t>(i)] = v;
        rec(i + 1, std::max(mx, v));
      }
    };
    rec(1, 0);
  }

  // 5. The faults.
  auto make = [&](json fault) {
    InferredFault f;
    f.at_ns = (lo + hi) / 2 - c.epoch;
    f.at_window = {lo - c.epoch, hi - c.epoch};
    if (heal_t != INT64_MAX) {
      f.end_ns = (hi + heal_t) / 2 - c.epoch;
      f.end_window = {hi - c.epoch, heal_t - c.epoch};
    }
    f.fault = std::move(fault);
    return f;
  };
  json all_ev = ev;
  if (!heal.is_null()) all_ev.push_back(heal);
  std::string window = fmt::format(
      "from between {} and {} (each observer's last packet before the silence and the next one "
      "due){}",
      ingest::format_utc(lo), ingest::format_utc(hi),
      heal_t == INT64_MAX ? ", to the end of the logs"
                          : fmt::format(", healed before {}", ingest::format_utc(heal_t)));
  std::vector<std::pair<std::string, std::string>> lost;
  for (auto [x, y] : must_split)
    lost.emplace_back(H[static_cast<size_t>(x)], H[static_cast<size_t>(y)]);
  for (const auto& [from, to] : oneway) {
    json x = cut[{from, to}];
    x.insert(x.end(), up[{to, from}].begin(), up[{to, from}].end());
    if (!heal.is_null()) x.push_back(heal);
    out.faults.push_back(
        make(json{{"kind", "cut"},
                  {"from", from},
                  {"to", to},
                  {"comment", fmt::format("inferred: one-way cut {} -> {} ({} -> {} went silent "
                                          "while {} -> {} still delivered) {}",
                                          from, to, from, to, to, from, window)},
                  {"evidence", x}}));
    out.faults.back().lost_pairs = {{from, to}};
  }
  if (best && best->groups >= 2) {
    std::vector<std::vector<std::string>> groups(static_cast<size_t>(best->groups));
    for (int i = 0; i < n; ++i)
      groups[static_cast<size_t>(best->of[static_cast<size_t>(i)])].push_back(
          H[static_cast<size_t>(i)]);
    std::string gs;
    for (const auto& g : groups)
      gs += (gs.empty() ? "" : " | ") + fmt::format("{}", fmt::join(g, ","));
    std::string why = fmt::format(
        "the fewest groups consistent with {} pair(s) that lost each other, {} that still or "
        "again talked{}",
        must_split.size(), must_join.size(),
        no_quorum ? ", and no group holding a quorum of the stuck LOOKING peers" : "");
    if (ties > 1)
      why += fmt::format("; {} groupings fit equally, the first in host order is taken", ties);
    // A single host cut off from all others: its interface went down if its own connects failed
    // at once (ENETUNREACH) or a client on it lost its own host's server; else a partition.
    std::string alone;
    for (const auto& g : groups)
      if (g.size() == 1 && groups.size() == 2) alone = g.front();
    bool ifdown = false;
    json down_ev = json::array();
    if (!alone.empty()) {
      ifdown = same_host_cut.count(alone) > 0;
      for (const Event& e : tl.events) {
        if (e.time_ns < lo - kS) continue;
        if (e.time_ns > std::min(heal_t, hi + 60 * kS)) break;
        if (c.resolve(e.host) != alone) continue;
        bool unreach = (e.type == EventType::kConnectionError && e.num == 101) ||
                       contains(e.detail, "Network is unreachable");
        if (unreach) {
          ifdown = true;
          if (down_ev.size() < 4)
            down_ev.push_back(evidence(tl, e,
                                       "the isolated host's own connect failed at once: "
                                       "its interface is down"));
        }
      }
    }
    json x = all_ev;
    x.insert(x.end(), down_ev.begin(), down_ev.end());
    if (ifdown) {
      out.faults.push_back(make(
          json{{"kind", "ifdown"},
               {"host", alone},
               {"comment", fmt::format("inferred: {} cut off from every other host with its own "
                                       "connects failing at once (interface down) {}",
                                       alone, window)},
               {"evidence", x}}));
    } else {
      json gj = json::array();
      for (const auto& g : groups) gj.push_back(g);
      out.faults.push_back(make(json{
          {"kind", "partition"},
          {"groups", gj},
          {"comment",
           fmt::format("inferred: partition {} ({}) {}{}", gs, why, window,
                       alone.empty() ? ""
                                     : "; an isolated host with no ENETUNREACH of its own and no "
                                       "local client that lost its server: a partition, which "
                                       "an ifdown would look like here")},
          {"evidence", x}}));
    }
  }
  for (auto& f : out.faults)
    if (f.lost_pairs.empty()) f.lost_pairs = lost;
  out.heal_upper_ns = heal_t;
  return out;
}

}  // namespace zksim::replay::detail
