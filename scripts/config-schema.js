#!/usr/bin/env node
// Writes schema/pgd-lint.config.schema.json, the config file's JSON Schema, from the rules' metadata
// (src/config.ts configSchema). Run it through `npm run schema`, which builds first; a test fails
// when the committed file differs from what the rules say.
'use strict';
const fs = require('fs');
const path = require('path');
const { configSchema } = require('../dist/src/config.js');

const out = path.join(__dirname, '..', 'schema', 'pgd-lint.config.schema.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(configSchema(), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), out)}`);
