// A registry for the priming run only: it answers Renovate's npm and PyPI lookups for the sample repository from
// registry.json (packuments and PyPI JSON documents of the packages it names), on loopback, so the run compiles
// Renovate's lookup code (datasources, versioning, updates) into the code cache without any network.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const documents = JSON.parse(readFileSync(new URL('registry.json', import.meta.url), 'utf8'));

function normalized(path) {
  const decoded = decodeURIComponent(path);
  const pypi = /^\/pypi\/([^/]+)\/json\/?$/.exec(decoded);
  return pypi ? `/pypi/${pypi[1].toLowerCase().replace(/[-_.]+/g, '-')}/json` : decoded;
}

const server = createServer((request, response) => {
  const body = documents[normalized(new URL(request.url, 'http://localhost').pathname)];
  response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body ?? { error: 'Not found' }));
});
server.listen(Number(process.argv[2]), '127.0.0.1');
