// Eval results: CSV round trip and its errors, the terminal table, the SVG plot's geometry, --lengths parsing.
#include "tasks/eval_report.h"

#include <gtest/gtest.h>

#include <regex>

#include "tasks/mqmtar_eval.h"

namespace tessera::tasks {
namespace {

std::vector<EvalRow> sample_rows() {
  return {{"mqmtar-softmax", "softmax", "pytorch-float32", 1, 64, 90, 300, 100, 100},
          {"mqmtar-softmax", "softmax", "pytorch-float32", 64, 4096, 3848, 300, 74.92, 0.33},
          {"mqmtar-biweight", "biweight", "cpu", 1, 64, 90, 40, 99.375, 97.5}};
}

TEST(EvalReport, CsvRoundTripsAndMatchesThePythonHeader) {
  const std::string csv = eval_rows_to_csv(sample_rows());
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match");
  EXPECT_NE(csv.find("mqmtar-biweight,biweight,cpu,1,64,90,40,99.38,97.5\n"), std::string::npos) << csv;
  auto back = eval_rows_from_csv(csv + csv, "x.csv");  // concatenated files repeat the header
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back->size(), 6u);
  EXPECT_EQ((*back)[1].length, 4096);
  EXPECT_DOUBLE_EQ((*back)[1].pair_accuracy, 74.92);
  EXPECT_EQ((*back)[2].backend, "cpu");
}

TEST(EvalReport, CsvErrorsNameFileLineAndField) {
  const std::string h = "model,method,backend,multiple,length,tokens,samples,pair_accuracy,exact_match\n";
  auto bad_method = eval_rows_from_csv(h + "m,gaussianmax,cpu,1,64,90,4,50,0\n", "r.csv");
  ASSERT_FALSE(bad_method.ok());
  EXPECT_NE(bad_method.status().message().find("r.csv line 2"), std::string::npos);
  EXPECT_NE(bad_method.status().message().find("unknown attention transform 'gaussianmax'"), std::string::npos);
  auto short_line = eval_rows_from_csv(h + "m,softmax,cpu,1,64\n", "r.csv");
  ASSERT_FALSE(short_line.ok());
  EXPECT_NE(short_line.status().message().find("found 5"), std::string::npos);
  auto not_number = eval_rows_from_csv(h + "m,softmax,cpu,1,64,90,4,fifty,0\n", "r.csv");
  ASSERT_FALSE(not_number.ok());
  EXPECT_NE(not_number.status().message().find("'fifty'"), std::string::npos);
  EXPECT_FALSE(eval_rows_from_csv(h + "m,softmax,cpu,1,64,90,4,150,0\n", "r.csv").ok());
}

TEST(EvalReport, TableHasOneLinePerModelBackendAndOneColumnPerLength) {
  const std::string t = eval_rows_table(sample_rows());
  EXPECT_NE(t.find("1x L=64"), std::string::npos);
  EXPECT_NE(t.find("64x L=4096"), std::string::npos);
  EXPECT_NE(t.find("mqmtar-softmax / pytorch-float32 | 100.00 (100.0) |  74.92 (  0.3)"), std::string::npos) << t;
  EXPECT_NE(t.find("mqmtar-biweight / cpu"), std::string::npos);
  EXPECT_NE(t.find(" 99.38 ( 97.5) |              -"), std::string::npos) << t;  // no 64x row for biweight
}

TEST(EvalReport, SvgPlacesPointsOnLog2LengthAndAccuracyAxes) {
  const std::string svg = eval_rows_svg(sample_rows(), "A & B");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("A &amp; B"), std::string::npos);
  // Plot area: x from 60 to 610 over log2 64..4096, y from 40 (100%) to 420 (0%).
  std::smatch m;
  const std::regex poly("<polyline[^>]*points=\"([^\"]*)\"");
  std::vector<std::string> lines;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), poly); it != std::sregex_iterator(); ++it)
    lines.push_back((*it)[1]);
  ASSERT_EQ(lines.size(), 2u);  // two series
  // 1x at (60, 40); 64x at x = 610, y = 40 + (100 - 74.92) * 3.8 = 135.304
  EXPECT_EQ(lines[0], "60,40 610,135.304 ");
  EXPECT_NE(svg.find("stroke-dasharray=\"6,3\""), std::string::npos);  // the cpu line is dashed
  EXPECT_NE(svg.find("#2ca02c"), std::string::npos);                   // biweight colour
}

TEST(EvalReport, LengthSpecs) {
  auto l = parse_mqmtar_lengths("1x,2x, 64x,100");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<int>{64, 128, 4096, 100}));
  for (const char* bad : {"", "0x", "abc", "2y", "1x,,2x", "20", "-1x", "99999999x"}) {
    auto r = parse_mqmtar_lengths(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--lengths item"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace tessera::tasks
