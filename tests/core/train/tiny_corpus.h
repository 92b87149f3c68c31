// Test fixture: a tiny two-language corpus in the layout of data/corpus/<split>/<lang>.txt
// (a line is a paragraph, a blank line ends a document), generated from a fixed-seed toy
// grammar, and a SentencePiece BPE tokenizer trained on it.
#ifndef ZETT_TESTS_CORE_TRAIN_TINY_CORPUS_H_
#define ZETT_TESTS_CORE_TRAIN_TINY_CORPUS_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace zett {

// Sentences "<det> <adj> <noun> <verb> <prep> <det> <noun>." in a toy vocabulary.
inline std::string ToySentence(const std::vector<std::vector<std::string>>& slots,
                               std::mt19937& rng) {
  std::string out;
  for (const auto& words : slots) {
    if (!out.empty()) out += ' ';
    out += words[std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng)];
  }
  return out + ".";
}

// Writes `documents` documents of 1–3 paragraphs; returns the documents' text (lines joined by
// '\n') so tests can check what was read back.
inline std::vector<std::string> WriteToyLanguage(const std::string& path, bool cyrillic,
                                                 int documents, unsigned seed) {
  static const std::vector<std::vector<std::string>> kEnglish = {{"the", "a"},
                                                                 {"big", "small", "red"},
                                                                 {"cat", "dog", "bird"},
                                                                 {"sat", "ran", "ate"},
                                                                 {"on", "near", "under"},
                                                                 {"the", "a"},
                                                                 {"mat", "house", "tree"}};
  static const std::vector<std::vector<std::string>> kRussian = {
      {"этот", "тот"},    {"большой", "малый"}, {"кот", "пёс", "дом"},
      {"сидел", "бежал"}, {"на", "под"},        {"столе", "крыше", "дереве"}};
  std::mt19937 rng(seed);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path);
  std::vector<std::string> docs;
  for (int d = 0; d < documents; ++d) {
    std::string doc;
    const int paragraphs = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < paragraphs; ++p) {
      std::string line = ToySentence(cyrillic ? kRussian : kEnglish, rng);
      line += " " + ToySentence(cyrillic ? kRussian : kEnglish, rng);
      out << line << "\n";
      doc += (doc.empty() ? "" : "\n") + line;
    }
    out << "\n";
    docs.push_back(doc);
  }
  return docs;
}

// <dir>/{train,valid}/{en,ru}.txt and <dir>/tokenizer/tokenizer.model (BPE, 80 pieces,
// unk 0, bos 1, eos 2). Returns an error message, empty on success.
inline std::string MakeTinyCorpus(const std::string& dir) {
  WriteToyLanguage(dir + "/train/en.txt", false, 300, 1);
  WriteToyLanguage(dir + "/train/ru.txt", true, 150, 2);
  WriteToyLanguage(dir + "/valid/en.txt", false, 40, 3);
  WriteToyLanguage(dir + "/valid/ru.txt", true, 40, 4);
  std::filesystem::create_directories(dir + "/tokenizer");
  // The spm_train tool (Debian package `sentencepiece`): libsentencepiece cannot be loaded into
  // a process that also loads LibTorch (see core/train/sentencepiece_encoder.h).
  const std::string command = "spm_train --input=" + dir + "/train/en.txt," + dir +
                              "/train/ru.txt --model_prefix=" + dir +
                              "/tokenizer/tokenizer --vocab_size=80 --model_type=bpe "
                              "--character_coverage=1.0 --hard_vocab_limit=false "
                              "--minloglevel=2 > " +
                              dir + "/spm_train.log 2>&1";
  if (std::system(command.c_str()) != 0) return "failed: " + command;
  return "";
}

}  // namespace zett

#endif  // ZETT_TESTS_CORE_TRAIN_TINY_CORPUS_H_
