// Comma-separated lists wrapped for a terminal, shared by the subcommands' summaries.
#pragma once

#include <string>
#include <vector>

namespace cli {

// `head` then the items joined by ", ", continued on lines starting with `indent` so that no line
// passes `width` (an item longer than a line gets a line of its own). Ends with a newline.
inline std::string wrap_list(const std::string& head, const std::string& indent,
                             const std::vector<std::string>& items, size_t width = 100) {
  std::string out, line = head;
  bool first_on_line = true;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item = items[i] + (i + 1 < items.size() ? "," : "");
    if (!first_on_line && line.size() + 1 + item.size() > width) {
      out += line + "\n";
      line = indent;
      first_on_line = true;
    }
    line += (first_on_line ? "" : " ") + item;
    first_on_line = false;
  }
  return out + line + "\n";
}

}  // namespace cli
