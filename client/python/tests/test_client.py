"""Tests of zett_client against a running zett-server (tests/client/python_package_test.sh
starts it and sets the environment):

  ZETT_ADDR         the server on the bundled model (model "default", --warmup=false)
  ZETT_CLI          the C++ `zett` binary, the reference the rows must equal bit for bit
  ZETT_TARGETS      ':'-separated tokenizer.json paths to transfer
  ZETT_BASE         the bundled base LM folder (models/base-lm), for apply
  ZETT_DOUBLE_ADDR  (optional) tests/server/test_zett_server on its test repository (model
                    "demo": tied=false, predicts a bias)
  ZETT_WORK         a scratch folder
"""
import json
import os
import subprocess
import unittest

import numpy as np

import zett_client
from zett_client.__main__ import compare_with
from zett_client.safetensors import read_safetensors

ADDR = os.environ.get("ZETT_ADDR")
CLI = os.environ.get("ZETT_CLI")
TARGETS = [t for t in os.environ.get("ZETT_TARGETS", "").split(":") if t]
BASE = os.environ.get("ZETT_BASE")
DOUBLE = os.environ.get("ZETT_DOUBLE_ADDR")
WORK = os.environ.get("ZETT_WORK", "/tmp")


def cpp_transfer(target, dtype, out):
    subprocess.run([CLI, "transfer", "--server", ADDR, "--model", "default", "--tokenizer",
                    target, "--dtype", dtype, "--out", out], check=True,
                   stdout=subprocess.DEVNULL)


@unittest.skipUnless(ADDR and CLI and TARGETS, "needs ZETT_ADDR, ZETT_CLI, ZETT_TARGETS")
class BundledModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = zett_client.Client(ADDR, timeout=300)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def test_rows_bit_identical_to_cpp_client(self):
        # Every dtype on the first (small) target, bf16 on the others (CI time on 2 CPU cores).
        for index, target in enumerate(TARGETS):
            for dtype in ("fp32", "bf16") if index == 0 else ("bf16",):
                with self.subTest(target=target, dtype=dtype):
                    out = os.path.join(WORK, "cpp-%s-%s" % (len(target), dtype))
                    cpp_transfer(target, dtype, out)
                    # bypass_cache: computed again, not the C++ call's cached stream replayed.
                    result = self.client.transfer("default", target, dtype=dtype,
                                                  bypass_cache=True)
                    self.assertFalse(result.cache_hit)
                    self.assertEqual(compare_with(result, out), [])
                    theirs, metadata = read_safetensors(os.path.join(out,
                                                                     "embeddings.safetensors"))
                    self.assertEqual(metadata["zett_dtype"], dtype)
                    # numpy arrays: float32 (bf16 widened exactly), shapes [V, d].
                    inp = result.input_embeddings
                    self.assertEqual(inp.dtype, np.float32)
                    self.assertEqual(list(inp.shape), theirs["input_embeddings"][1])
                    self.assertEqual(inp.shape[0], len(result.vocabulary))
                    self.assertIsNotNone(result.output_embeddings)  # base-lm is untied
                    self.assertIsNone(result.output_bias)
                    self.assertTrue(np.isfinite(inp).all())
                    if dtype == "bf16":
                        words = np.frombuffer(theirs["input_embeddings"][2], dtype="<u2")
                        np.testing.assert_array_equal(
                            inp.reshape(-1), zett_client.bf16_to_float32(words))
                    # save() writes what `zett transfer --out` writes.
                    mine = os.path.join(WORK, "py-%s-%s" % (len(target), dtype))
                    result.save(mine)
                    ours, our_meta = read_safetensors(os.path.join(mine,
                                                                   "embeddings.safetensors"))
                    self.assertEqual(ours, theirs)
                    self.assertEqual(our_meta, metadata)
                    with open(os.path.join(mine, "vocabulary.json"), encoding="utf-8") as f, \
                            open(os.path.join(out, "vocabulary.json"), encoding="utf-8") as g:
                        self.assertEqual(json.load(f), json.load(g))

    def test_write_model_matches_zett_apply(self):
        for target in TARGETS:
            with self.subTest(target=target):
                self.check_write_model(target)

    def check_write_model(self, target):
        out = os.path.join(WORK, "cpp-apply-in")
        cpp_transfer(target, "bf16", out)
        cpp_applied = os.path.join(WORK, "cpp-applied")
        subprocess.run([CLI, "apply", "--embeddings", out, "--tokenizer", target, "--base", BASE,
                        "--out", cpp_applied, "--force"], check=True, stdout=subprocess.DEVNULL)
        result = self.client.transfer("default", target, dtype="bf16")
        applied = os.path.join(WORK, "py-applied")
        summary = self.client.apply("default", target, BASE, applied, load=False, force=True)
        self.assertEqual(summary["replaced_tensors"], ["model.embed_tokens.weight",
                                                       "lm_head.weight"])
        ours, _ = read_safetensors(os.path.join(applied, "model.safetensors"))
        theirs, _ = read_safetensors(os.path.join(cpp_applied, "model.safetensors"))
        self.assertEqual(sorted(ours), sorted(theirs))
        for name in theirs:
            # (not assertEqual: its diff of two large byte strings takes minutes)
            if ours[name] != theirs[name]:
                a = np.frombuffer(ours[name][2], dtype=np.uint8)
                b = np.frombuffer(theirs[name][2], dtype=np.uint8)
                self.fail("%s differs from zett apply's: %s vs %s, %s of %s bytes" % (
                    name, ours[name][:2], theirs[name][:2],
                    int((a != b).sum()) if a.size == b.size else "?", b.size))
        for name in ("config.json", "generation_config.json", "tokenizer_config.json",
                     "special_tokens_map.json", "tokenizer.json"):
            with open(os.path.join(applied, name), encoding="utf-8") as f, \
                    open(os.path.join(cpp_applied, name), encoding="utf-8") as g:
                self.assertEqual(json.load(f), json.load(g), name)
        # Refusals as `zett apply`'s: a non-empty out dir without force, out == base.
        with self.assertRaises(zett_client.ApplyError):
            zett_client.write_model(result, target, BASE, applied)
        with self.assertRaises(zett_client.ApplyError):
            zett_client.write_model(result, target, BASE, BASE, force=True)

    def test_apply_load_needs_transformers(self):
        try:
            import transformers  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "needs transformers"):
                self.client.apply("default", TARGETS[0], BASE, os.path.join(WORK, "x"))
            return
        import torch
        model = self.client.apply("default", TARGETS[-1], BASE, os.path.join(WORK, "loaded"),
                                  force=True)
        self.assertEqual(model.get_input_embeddings().weight.shape[0],
                         model.zett_apply_summary["vocab_size"])
        with torch.no_grad():
            logits = model(torch.tensor([[0, 1, 2]])).logits
        self.assertTrue(torch.isfinite(logits).all())

    def test_as_torch(self):
        result = self.client.transfer("default", TARGETS[0], dtype="bf16")
        try:
            import torch
        except ImportError:
            with self.assertRaisesRegex(ImportError, "needs torch"):
                result.as_torch()
            return
        tensors = result.as_torch()
        self.assertEqual(tensors["input_embeddings"].dtype, torch.bfloat16)
        np.testing.assert_array_equal(tensors["input_embeddings"].float().numpy(),
                                      result.input_embeddings)

    def test_models_health_predict(self):
        self.assertEqual(self.client.health(), "SERVING")
        self.assertEqual([m.name for m in self.client.list_models()], ["default"])
        info = self.client.get_model("default")
        self.assertEqual(info.architecture, "LlamaForCausalLM")
        self.assertEqual(info.versions[0].state, zett_client.pb.VERSION_STATE_AVAILABLE)
        self.assertGreater(info.limits.max_vocab, 0)
        predicted = self.client.predict_tokens("default", ["Ġhello", "Ġworld"])
        self.assertEqual(predicted.tokens, ["Ġhello", "Ġworld"])
        self.assertEqual(predicted.input_embeddings.shape, (2, info.hidden_size))
        self.assertTrue(np.isfinite(predicted.input_embeddings).all())

    def test_unknown_model_is_not_found(self):
        with self.assertRaises(zett_client.NotFoundError) as caught:
            self.client.transfer("no-such-model", TARGETS[0])
        self.assertEqual(caught.exception.code.name, "NOT_FOUND")
        self.assertIn("no-such-model", caught.exception.details)
        with self.assertRaises(zett_client.NotFoundError):
            self.client.get_model("no-such-model")

    def test_bad_tokenizer_is_invalid_argument(self):
        for bad in (b"{ this is not json", {"model": {"type": "NoSuchModel"}}):
            with self.subTest(bad=bad):
                with self.assertRaises(zett_client.InvalidArgumentError) as caught:
                    self.client.transfer("default", bad)
                self.assertEqual(caught.exception.code.name, "INVALID_ARGUMENT")
                self.assertIsInstance(caught.exception, zett_client.ZettError)

    def test_unreachable_server_is_unavailable(self):
        with zett_client.Client("127.0.0.1:1", timeout=5) as client:
            with self.assertRaises(zett_client.UnavailableError):
                client.list_models()


@unittest.skipUnless(DOUBLE, "needs ZETT_DOUBLE_ADDR")
class TestDoubleTest(unittest.TestCase):
    """The checks of the former tests/server/python_client_test.sh: a token list, three
    matrices (bias included), 8 columns, fp32 and bf16."""

    def test_token_list_three_matrices(self):
        with zett_client.Client(DOUBLE, timeout=60) as client:
            for dtype in ("fp32", "bf16"):
                result = client.transfer("demo", ["Ġhello", "Ġworld", "!", "<s>"], dtype=dtype)
                self.assertEqual(len(result.vocabulary), 4)
                self.assertEqual(set(result.matrix_names),
                                 {"input_embeddings", "output_embeddings", "output_bias"})
                self.assertEqual(result.input_embeddings.shape, (4, 8))
                self.assertEqual(result.output_bias.shape, (4,))


class StreamAssemblerTest(unittest.TestCase):
    """The stream checks, without a server: what the C++ StreamAssembler refuses."""

    def stream(self, data=b"\0" * 16, sha=None):
        import hashlib
        pb = zett_client.pb
        header = pb.TransferResponse(header=pb.TransferHeader(
            model="m", version=1, dtype=pb.DTYPE_FP32, vocab_size=1,
            shapes=[pb.MatrixShape(matrix=pb.MATRIX_INPUT_EMBEDDINGS, rows=1, cols=4)]))
        vocab = pb.TransferResponse(vocabulary=pb.VocabularyBlock(
            first_id=0, tokens=[pb.TokenEntry(id=0, token="a")]))
        rows = pb.TransferResponse(rows=pb.RowBlock(matrix=pb.MATRIX_INPUT_EMBEDDINGS,
                                                    first_row=0, num_rows=1, data=data))
        trailer = pb.TransferResponse(trailer=pb.TransferTrailer(checksums=[pb.MatrixChecksum(
            matrix=pb.MATRIX_INPUT_EMBEDDINGS,
            sha256=sha if sha is not None else hashlib.sha256(data).digest())]))
        return [header, vocab, rows, trailer]

    def assemble(self, messages):
        assembler = zett_client.StreamAssembler()
        for m in messages:
            assembler.add(m)
        return assembler.finish()

    def test_good_stream(self):
        result = self.assemble(self.stream())
        self.assertEqual(result.tokens, ["a"])
        np.testing.assert_array_equal(result.input_embeddings, np.zeros((1, 4), np.float32))

    def test_checksum_mismatch_is_data_loss(self):
        with self.assertRaisesRegex(zett_client.DataLossError, "SHA-256"):
            self.assemble(self.stream(sha=b"\1" * 32))

    def test_short_block_is_data_loss(self):
        with self.assertRaises(zett_client.DataLossError):
            self.assemble(self.stream(data=b"\0" * 12))

    def test_missing_trailer_and_second_header(self):
        messages = self.stream()
        with self.assertRaises(zett_client.DataLossError):
            self.assemble(messages[:3])
        with self.assertRaises(zett_client.DataLossError):
            self.assemble(messages[:1] + messages)


if __name__ == "__main__":
    unittest.main(verbosity=2)
