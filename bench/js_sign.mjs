#!/usr/bin/env node
/*
 * The JavaScript reference of `make bench`: signs (and verifies) the same credential as the
 * Python benchmark with the Digital Bazaar stack (@digitalbazaar/vc +
 * eddsa-rdfc-2022-cryptosuite) installed for the interop tests in tests/interop.
 *
 * Usage: node bench/js_sign.mjs INPUT.json, then one command per line on stdin:
 *   {"what": "sign", "iterations": 50}     -> {"times": [ms, ...], "proofValue": "z..."}
 *   {"what": "verify", "iterations": 50}   -> {"times": [ms, ...]}
 * one JSON line each on stdout; end of input ends the process. The Python side alternates
 * rounds of its own measurements with rounds of these, so both see the same machine.
 *
 * INPUT: {"credential": {...unsigned...}, "seed": "<64 hex>", "verificationMethod": "did:...#z6Mk...",
 *         "created": "2026-03-02T09:30:00Z",
 *         "verify": {"credential": {...signed...}, "documents": {url: DID document}}}
 * Verification times the proof only (the status check is answered "fine" without work).
 * Contexts come from the npm context packages through the interop verifier's offline
 * document loader: nothing is fetched.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const interop = path.resolve(here, '..', 'tests', 'interop');
const requireFromInterop = createRequire(path.join(interop, 'package.json'));

async function load(specifier) {
  return import(pathToFileURL(requireFromInterop.resolve(specifier)).href);
}

async function timed(action, iterations) {
  const times = [];
  let last;
  for(let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    last = await action();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return {times, last};
}

async function main() {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const vc = await load('@digitalbazaar/vc');
  const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
  const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
  const {createDocumentLoader} = await import(
    pathToFileURL(path.join(interop, 'verify.mjs')).href);

  const seed = Uint8Array.from(Buffer.from(input.seed, 'hex'));
  const controller = input.verificationMethod.split('#')[0];
  const keyPair = await Ed25519Multikey.generate({seed, controller});
  keyPair.id = input.verificationMethod;
  const documentLoader = createDocumentLoader({});
  const date = new Date(input.created);
  const verifyLoader = createDocumentLoader(input.verify ? input.verify.documents : {});

  const actions = {
    sign: () => vc.issue({
      credential: structuredClone(input.credential),
      suite: new DataIntegrityProof({signer: keyPair.signer(), cryptosuite, date}),
      documentLoader
    }),
    verify: async () => {
      const result = await vc.verifyCredential({
        credential: input.verify.credential,
        suite: new DataIntegrityProof({cryptosuite}),
        documentLoader: verifyLoader,
        checkStatus: async () => ({verified: true})
      });
      if(!result.verified) {
        throw new Error(`the JS stack did not verify our credential: ${JSON.stringify(result.error)}`);
      }
      return result;
    }
  };

  const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) {
    if(!line.trim()) {
      continue;
    }
    const command = JSON.parse(line);
    const {times, last} = await timed(actions[command.what], command.iterations);
    const reply = {times};
    if(command.what === 'sign') {
      reply.proofValue = last.proof.proofValue;
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
}

main().catch(e => {
  process.stderr.write(`js_sign.mjs: ${e?.stack || e}\n`);
  process.exit(1);
});
