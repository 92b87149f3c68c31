#include "core/train/tokenizer_sampler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pre_tokenizer.h"

namespace zett {

const char kSplitRegex[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

constexpr double kNoScore = -100000.0;  // zett's log-score for a non-positive noised frequency
constexpr char kStateHeader[] = "zett-tokenizer-sampler-v1";

// The byte chars standing for space, newline and tab.
const std::vector<std::string>& WhitespaceChars() {
  static const auto* chars = new std::vector<std::string>{
      tokenizer::ByteToChar(' '), tokenizer::ByteToChar('\n'), tokenizer::ByteToChar('\t')};
  return *chars;
}

// Number of whitespace byte chars in a byte-char string.
int CountWhitespace(std::string_view piece) {
  int n = 0;
  for (const std::string& w : WhitespaceChars()) {
    for (size_t pos = piece.find(w); pos != std::string_view::npos; pos = piece.find(w, pos + 1)) {
      ++n;
    }
  }
  return n;
}

bool IsUtf8Continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A standard normal draw that depends only on `key` (Box-Muller over two SplitMix64 outputs).
// Keyed by (sample seed, piece), the noise of a piece does not depend on hash-map order, so a
// restored sampler draws exactly the tokenizer the original would have.
double StandardNormal(uint64_t key) {
  constexpr double kTwoPow53 = 9007199254740992.0;
  const double u1 = (static_cast<double>(SplitMix64(key) >> 11) + 1.0) / (kTwoPow53 + 1.0);
  const double u2 = static_cast<double>(SplitMix64(key ^ 0xD1B54A32D192ED03ull) >> 11) / kTwoPow53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenizerSampler>> TokenizerSampler::Create(
    const TokenizerSamplerOptions& options, uint64_t seed) {
  if (options.vocab_size < 256 + 1 || options.max_length < 2 || options.stride < 1 ||
      options.queue_batches < 1 || !(options.noise_mean > 0) || options.noise_std < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer sampler: need vocab_size > 256, max_length >= 2, stride >= 1, "
                     "queue_batches >= 1, noise_mean > 0, noise_std >= 0; got vocab_size ",
                     options.vocab_size, ", max_length ", options.max_length, ", stride ",
                     options.stride, ", queue_batches ", options.queue_batches));
  }
  auto split = tokenizer::SplitPreTokenizer::Create(kSplitRegex, /*is_regex=*/true,
                                                    tokenizer::SplitBehavior::kRemoved,
                                                    /*invert=*/true);
  if (!split.ok()) return split.status();
  return std::unique_ptr<TokenizerSampler>(
      new TokenizerSampler(options, seed, std::move(split).value()));
}

TokenizerSampler::TokenizerSampler(const TokenizerSamplerOptions& options, uint64_t seed,
                                   std::unique_ptr<tokenizer::PreTokenizer> split)
    : options_(options), rng_(seed), split_(std::move(split)) {}

TokenizerSampler::~TokenizerSampler() = default;

void TokenizerSampler::Push(const std::vector<std::string>& texts) {
  Counts counts;
  const size_t max_bytes = static_cast<size_t>(options_.max_length - 1);
  std::vector<size_t> char_starts;
  for (const std::string& text : texts) {
    // Prefix space, then the split regex; each pre-token is counted on its own.
    std::vector<tokenizer::Piece> pieces = {{" " + text, true}};
    split_->PreTokenize(&pieces);
    for (const tokenizer::Piece& piece : pieces) {
      const std::string& bytes = piece.text;
      // Byte-char offsets of each byte, so substrings can be cut from the byte-char string.
      std::string chars;
      std::vector<size_t> offsets(bytes.size() + 1);
      for (size_t i = 0; i < bytes.size(); ++i) {
        offsets[i] = chars.size();
        chars += tokenizer::ByteToChar(static_cast<uint8_t>(bytes[i]));
      }
      offsets[bytes.size()] = chars.size();
      char_starts.clear();
      for (size_t i = 0; i < bytes.size(); ++i) {
        if (!IsUtf8Continuation(static_cast<unsigned char>(bytes[i]))) char_starts.push_back(i);
      }
      // Substrings of 1 .. max_length - 1 bytes from every stride-th character start; a
      // substring may end inside a character (the vocabulary is byte-level).
      for (size_t s = 0; s < char_starts.size(); s += options_.stride) {
        const size_t start = char_starts[s];
        for (size_t length = 1; length <= max_bytes && start + length <= bytes.size(); ++length) {
          // absl::string_view: Debian's Abseil does not alias std::string_view.
          const absl::string_view substring(chars.data() + offsets[start],
                                            offsets[start + length] - offsets[start]);
          // frequency x length, length in UTF-8 bytes of the byte-char string (as zett).
          const int64_t score = static_cast<int64_t>(substring.size());
          auto it = counts.find(substring);  // no allocation for substrings seen before
          if (it != counts.end()) {
            it->second += score;
          } else {
            counts.emplace(std::string(substring), score);
          }
        }
      }
    }
  }
  AddEntry(std::move(counts));
}

void TokenizerSampler::AddEntry(Counts counts) {
  for (const auto& [piece, score] : counts) {
    auto it = totals_.find(piece);
    if (it != totals_.end()) {
      it->second += score;
    } else {
      totals_.emplace(piece, score);
    }
  }
  queue_.push_back(std::move(counts));
  while (static_cast<int64_t>(queue_.size()) > options_.queue_batches) {
    for (const auto& [piece, score] : queue_.front()) {
      auto it = totals_.find(piece);
      if ((it->second -= score) == 0) totals_.erase(it);
    }
    queue_.pop_front();
  }
}

absl::StatusOr<SampledTokenizer> TokenizerSampler::Sample() {
  if (totals_.empty()) {
    return absl::FailedPreconditionError("tokenizer sampler: no text pushed yet");
  }
  double score_sum = 0;
  int64_t min_score = totals_.begin()->second;
  for (const auto& [piece, score] : totals_) {
    score_sum += static_cast<double>(score);
    min_score = std::min(min_score, score);
  }

  SampledTokenizer out;
  out.noise_sigma = options_.noise_std > 0
                        ? std::lognormal_distribution<double>(std::log(options_.noise_mean),
                                                              options_.noise_std)(rng_)
                        : options_.noise_mean;
  const uint64_t sample_seed = rng_();
  const std::hash<std::string> hash;

  // The byte alphabet, at the lowest observed frequency.
  const double min_log_prob = std::log(static_cast<double>(min_score) / score_sum);
  for (int byte = 0; byte < 256; ++byte) {
    out.pieces.push_back(tokenizer::ByteToChar(static_cast<uint8_t>(byte)));
    out.log_scores.push_back(min_log_prob);
  }
  // Canonical whitespace runs c2 + c1 * i (i >= 1), so every run of one kind is one piece.
  for (const std::string& c1 : WhitespaceChars()) {
    std::string run;
    for (int i = 1; i < options_.max_length; ++i) {
      run += c1;
      for (const std::string& c2 : WhitespaceChars()) {
        out.pieces.push_back(c2 + run);
        out.log_scores.push_back(0.0);
      }
    }
  }

  // Candidates: every counted substring but single chars (in the alphabet) and those with two
  // or more whitespace chars (covered by the runs), each noised: p + N(0, sigma).
  std::vector<std::pair<double, const std::string*>> candidates;
  candidates.reserve(totals_.size());
  for (const auto& [piece, score] : totals_) {
    // One byte char: one code point (byte chars are 1 or 2 UTF-8 bytes).
    const bool single_char =
        piece.size() == 1 ||
        (piece.size() == 2 && IsUtf8Continuation(static_cast<unsigned char>(piece[1])));
    // Whitespace byte chars all start with 0xC4; most pieces have none.
    if (single_char || (piece.find('\xC4') != std::string::npos && CountWhitespace(piece) >= 2)) {
      continue;
    }
    const double noised = static_cast<double>(score) / score_sum +
                          out.noise_sigma * StandardNormal(sample_seed ^ hash(piece));
    candidates.emplace_back(noised, &piece);
  }
  const size_t room =
      std::max<int64_t>(0, options_.vocab_size - static_cast<int64_t>(out.pieces.size()));
  const size_t keep = std::min(room, candidates.size());
  // Top `keep` by noised frequency (ln is monotone, so it is taken for the kept ones only; ties
  // by piece, so a sample depends only on the counts and the RNG).
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  };
  std::nth_element(candidates.begin(), candidates.begin() + keep, candidates.end(), better);
  std::sort(candidates.begin(), candidates.begin() + keep, better);
  for (size_t i = 0; i < keep; ++i) {
    out.pieces.push_back(*candidates[i].second);
    const double noised = candidates[i].first;
    out.log_scores.push_back(noised > 0 ? std::log(noised) : kNoScore);
  }
  return out;
}

absl::StatusOr<SampledTokenizer> TokenizerSampler::PushAndSample(
    const std::vector<std::string>& batch) {
  Push(batch);
  return Sample();
}

std::string TokenizerSampler::SerializeState() const {
  std::ostringstream out;
  out << kStateHeader << "\n" << rng_ << "\n" << queue_.size() << "\n";
  for (const Counts& entry : queue_) {
    out << entry.size() << "\n";
    for (const auto& [piece, score] : entry) out << piece << "\t" << score << "\n";
  }
  return out.str();
}

absl::Status TokenizerSampler::RestoreState(const std::string& state) {
  std::istringstream in(state);
  std::string header;
  std::getline(in, header);
  if (header != kStateHeader) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer sampler state: expected header ", kStateHeader));
  }
  std::mt19937_64 rng;
  size_t entries = 0;
  if (!(in >> rng >> entries)) {
    return absl::InvalidArgumentError("tokenizer sampler state: bad RNG state or entry count");
  }
  std::deque<Counts> queue;
  for (size_t e = 0; e < entries; ++e) {
    size_t size = 0;
    if (!(in >> size)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokenizer sampler state: entry ", e, " has no size"));
    }
    Counts counts;
    for (size_t i = 0; i < size; ++i) {
      std::string piece;
      int64_t score = 0;
      if (!(in >> piece >> score)) {
        return absl::InvalidArgumentError(
            absl::StrCat("tokenizer sampler state: entry ", e, " is truncated at line ", i));
      }
      counts[piece] = score;
    }
    queue.push_back(std::move(counts));
  }
  rng_ = rng;
  queue_.clear();
  totals_.clear();
  for (Counts& counts : queue) AddEntry(std::move(counts));
  return absl::OkStatus();
}

}  // namespace zett
