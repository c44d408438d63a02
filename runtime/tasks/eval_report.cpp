#include "tasks/eval_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "tessera/attention.h"

namespace tessera::tasks {
namespace {

const char* kHeader = "model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match";

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

std::string xml_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '&') r += "&amp;";
    else if (c == '<') r += "&lt;";
    else if (c == '>') r += "&gt;";
    else if (c == '"') r += "&quot;";
    else r += c;
  }
  return r;
}

std::string series_key(const EvalRow& r) { return r.model + " / " + r.backend; }

// Colour per transform family (same colour for the PyTorch and Tessera lines of one model).
const char* colour(const std::string& method) {
  auto m = AttentionMethod::parse(method);
  if (!m.ok()) return "#7f7f7f";
  switch (m->kind) {
    case AttentionKind::kSoftmax: return "#1f77b4";
    case AttentionKind::kSparsemax: return "#d62728";
    case AttentionKind::kEntmax15: return "#2ca02c";
    case AttentionKind::kEntmax43: return "#9467bd";
    case AttentionKind::kReluMax: return "#ff7f0e";
    case AttentionKind::kNormRelu: return "#8c564b";
    default: return "#17becf";
  }
}

const char* dash(const std::string& backend) {
  if (backend.rfind("pytorch", 0) == 0) return "";
  if (backend == "cpu") return "6,3";
  if (backend == "vulkan") return "2,3";
  return "8,3,2,3";  // cpu-int8 and anything else
}

}  // namespace

std::string eval_rows_to_csv(const std::vector<EvalRow>& rows) {
  std::string s = std::string(kHeader) + "\n";
  for (const auto& r : rows)
    s += r.model + "," + r.method + "," + r.backend + "," + fmt(r.multiple) + "," + std::to_string(r.length) + "," +
         std::to_string(r.tokens) + "," + std::to_string(r.samples) + "," +
         fmt(std::round(r.pair_accuracy * 100) / 100) + "," + fmt(std::round(r.exact_match * 100) / 100) + "\n";
  return s;
}

Result<std::vector<EvalRow>> eval_rows_from_csv(const std::string& text, const std::string& source) {
  std::vector<EvalRow> rows;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line == kHeader) continue;
    const std::string where = source + " line " + std::to_string(n) + ": ";
    auto f = split(line, ',');
    if (f.size() != 9)
      return invalid_argument(where + "expected 9 comma-separated fields (" + kHeader + "), found " +
                              std::to_string(f.size()));
    if (!AttentionMethod::parse(f[1]).ok())
      return invalid_argument(where + "unknown attention transform '" + f[1] + "'");
    double v[6];
    for (int i = 0; i < 6; ++i)
      if (!parse_number(f[static_cast<size_t>(3 + i)], v[i]))
        return invalid_argument(where + "field " + std::to_string(4 + i) + " '" + f[static_cast<size_t>(3 + i)] +
                                "' is not a number");
    if (v[1] <= 0 || v[4] < 0 || v[4] > 100 || v[5] < 0 || v[5] > 100)
      return invalid_argument(where + "length must be > 0 and accuracies within 0..100");
    rows.push_back({f[0], f[1], f[2], v[0], int(v[1]), int(v[2]), int(v[3]), v[4], v[5]});
  }
  return rows;
}

std::string eval_rows_table(const std::vector<EvalRow>& rows) {
  std::set<int> lengths;
  std::vector<std::string> order;
  std::map<std::string, std::map<int, const EvalRow*>> cells;
  size_t w0 = 16;
  for (const auto& r : rows) {
    lengths.insert(r.length);
    const std::string k = series_key(r);
    if (!cells.count(k)) order.push_back(k);
    cells[k][r.length] = &r;
    w0 = std::max(w0, k.size());
  }
  std::ostringstream o;
  char b[64];
  std::snprintf(b, sizeof b, "%-*s", int(w0), "model / backend");
  o << b;
  for (int L : lengths) {
    std::snprintf(b, sizeof b, " | %14s", (fmt(L / 64.0) + "x L=" + std::to_string(L)).c_str());
    o << b;
  }
  o << "\n" << std::string(w0, '-');
  for (size_t i = 0; i < lengths.size(); ++i) o << "-+" << std::string(15, '-');
  o << "\n";
  for (const auto& k : order) {
    std::snprintf(b, sizeof b, "%-*s", int(w0), k.c_str());
    o << b;
    for (int L : lengths) {
      auto it = cells[k].find(L);
      if (it == cells[k].end()) std::snprintf(b, sizeof b, " | %14s", "-");
      else std::snprintf(b, sizeof b, " | %6.2f (%5.1f)", it->second->pair_accuracy, it->second->exact_match);
      o << b;
    }
    o << "\n";
  }
  o << "cells: pair accuracy % (exact match %)\n";
  return o.str();
}

std::string eval_rows_svg(const std::vector<EvalRow>& rows, const std::string& title) {
  const double W = 860, H = 480, left = 60, right = 250, top = 40, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  std::set<int> lengths;
  std::vector<std::string> order;
  std::map<std::string, std::vector<const EvalRow*>> series;
  for (const auto& r : rows) {
    lengths.insert(r.length);
    const std::string k = series_key(r);
    if (!series.count(k)) order.push_back(k);
    series[k].push_back(&r);
  }
  const double lo = lengths.empty() ? 6 : std::log2(*lengths.begin());
  const double hi = lengths.empty() ? 12 : std::max(std::log2(*lengths.rbegin()), lo + 1);
  auto X = [&](double L) { return left + (std::log2(L) - lo) / (hi - lo) * pw; };
  auto Y = [&](double acc) { return top + (100.0 - acc) / 100.0 * ph; };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << left + pw / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << xml_escape(title)
    << "</text>\n";
  for (int a = 0; a <= 100; a += 20) {
    o << "<line x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << Y(a) << "\" y2=\"" << Y(a)
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << left - 6 << "\" y=\"" << Y(a) + 4 << "\" text-anchor=\"end\">" << a
      << "</text>\n";
  }
  for (int L : lengths) {
    o << "<line x1=\"" << X(L) << "\" x2=\"" << X(L) << "\" y1=\"" << top << "\" y2=\"" << top + ph
      << "\" stroke=\"#eee\"/>\n<text x=\"" << X(L) << "\" y=\"" << top + ph + 16 << "\" text-anchor=\"middle\">"
      << fmt(L / 64.0) << "x</text>\n<text x=\"" << X(L) << "\" y=\"" << top + ph + 30
      << "\" text-anchor=\"middle\" fill=\"#666\" font-size=\"10\">" << L << "</text>\n";
  }
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 12
    << "\" text-anchor=\"middle\">length of the key-value region (multiple of the 64-token training length)</text>\n";
  o << "<text transform=\"translate(16," << top + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">pair accuracy (%)</text>\n";
  double ly = top + 8;
  for (const auto& k : order) {
    auto pts = series[k];
    std::sort(pts.begin(), pts.end(), [](const EvalRow* a, const EvalRow* b) { return a->length < b->length; });
    const std::string c = colour(pts[0]->method), d = dash(pts[0]->backend);
    const std::string da = d.empty() ? "" : " stroke-dasharray=\"" + d + "\"";
    o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"2\"" << da << " points=\"";
    for (const auto* p : pts) o << X(p->length) << "," << Y(p->pair_accuracy) << " ";
    o << "\"/>\n";
    for (const auto* p : pts)
      o << "<circle cx=\"" << X(p->length) << "\" cy=\"" << Y(p->pair_accuracy) << "\" r=\"2.5\" fill=\"" << c
        << "\"/>\n";
    o << "<line x1=\"" << left + pw + 12 << "\" x2=\"" << left + pw + 40 << "\" y1=\"" << ly << "\" y2=\"" << ly
      << "\" stroke=\"" << c << "\" stroke-width=\"2\"" << da << "/>\n<text x=\"" << left + pw + 46 << "\" y=\""
      << ly + 4 << "\" font-size=\"11\">" << xml_escape(k) << "</text>\n";
    ly += 16;
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace tessera::tasks
