#include "models/zk/data_tree.h"

#include <fmt/format.h>

namespace zk {

std::string hex(int64_t v) {
  return fmt::format("0x{:x}", static_cast<uint64_t>(v));
}

DataTree::DataTree() {
  nodes["/"] = Znode{};
}

std::string DataTree::parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == 0 || pos == std::string::npos) return "/";
  return path.substr(0, pos);
}

std::string DataTree::name_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

int DataTree::check_create(const std::string& path, int64_t session, bool ephemeral) const {
  auto parent = nodes.find(parent_of(path));
  if (parent == nodes.end()) return ZNONODE;
  // Ephemerals cannot have children (NoChildrenForEphemerals, reported as ZNONODE-like error).
  if (parent->second.owner != 0) return ZNONODE;
  if (nodes.count(path)) return ZNODEEXISTS;
  if (ephemeral && !sessions.count(session)) return ZSESSIONEXPIRED;
  return ZOK;
}

int DataTree::check_delete(const std::string& path) const {
  auto it = nodes.find(path);
  if (it == nodes.end() || path == "/") return ZNONODE;
  if (!it->second.children.empty()) return ZNOTEMPTY;
  return ZOK;
}

std::string DataTree::resolve_create_path(const std::string& path, bool sequential) const {
  if (!sequential) return path;
  auto parent = nodes.find(parent_of(path));
  int64_t cv = parent == nodes.end() ? 0 : parent->second.cversion;
  return path + fmt::format("{:010d}", cv);
}

std::vector<WatchTrigger> DataTree::apply(const Txn& t, std::vector<std::string>* deleted) {
  std::vector<WatchTrigger> out;
  if (t.zxid > last_zxid) last_zxid = t.zxid;
  auto remove_node = [&](const std::string& path) {
    auto it = nodes.find(path);
    if (it == nodes.end()) return;
    if (it->second.owner != 0) {
      auto e = ephemerals.find(it->second.owner);
      if (e != ephemerals.end()) {
        e->second.erase(path);
        if (e->second.empty()) ephemerals.erase(e);
      }
    }
    nodes.erase(it);
    std::string parent = parent_of(path);
    auto p = nodes.find(parent);
    if (p != nodes.end()) p->second.children.erase(name_of(path));
    out.push_back({WatchType::NodeDeleted, path, false});
    out.push_back({WatchType::NodeDeleted, path, true});
    out.push_back({WatchType::NodeChildrenChanged, parent, true});
    if (deleted) deleted->push_back(path);
  };
  switch (t.kind) {
    case TxnKind::Noop:
      break;
    case TxnKind::CreateSession:
      sessions[t.session] = t.timeout;
      break;
    case TxnKind::CloseSession: {
      // killSession: every ephemeral of the session goes in this same transaction.
      auto e = ephemerals.find(t.session);
      if (e != ephemerals.end()) {
        std::vector<std::string> paths(e->second.begin(), e->second.end());
        for (const auto& p : paths) remove_node(p);
      }
      sessions.erase(t.session);
      break;
    }
    case TxnKind::Create: {
      std::string parent = parent_of(t.path);
      auto p = nodes.find(parent);
      if (p == nodes.end() || nodes.count(t.path)) break;
      p->second.cversion++;
      p->second.children.insert(name_of(t.path));
      Znode n;
      n.owner = t.ephemeral ? t.session : 0;
      nodes[t.path] = n;
      if (t.ephemeral) ephemerals[t.session].insert(t.path);
      out.push_back({WatchType::NodeCreated, t.path, false});
      out.push_back({WatchType::NodeChildrenChanged, parent, true});
      break;
    }
    case TxnKind::Delete:
      remove_node(t.path);
      break;
  }
  return out;
}

}  // namespace zk
