// The editor pages (YASGUI at /sparql, GraphiQL at /graphql). Loaded before the editor's own files, which are
// deferred: it notes any of them that fails to load (network, blocked address, integrity mismatch), starts the
// editor once they have run, and shows the page's failure message when the editor cannot start or takes too long.
(() => {
  "use strict";
  const WAIT_MS = 20000;
  const failed = [];
  let started = false;

  window.addEventListener(
    "error",
    (event) => {
      const element = event.target;
      if (element instanceof HTMLScriptElement || element instanceof HTMLLinkElement) {
        failed.push(element.src || element.href);
      }
    },
    true,
  );

  function showFailure(detail) {
    document.getElementById("editor-status").hidden = true;
    const failure = document.getElementById("editor-failure");
    failure.hidden = false;
    failure.dataset.detail = detail;
  }

  // YASGUI keeps its tabs in localStorage: the examples are added once per set of examples (its version), not on
  // every visit, and an example tab the reader has closed is not reopened until the set changes.
  const EXAMPLES_KEY = "kg-yasgui-examples";

  function readStorage(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null; // storage refused: YASGUI keeps nothing either, so the examples are added afresh
    }
  }

  function startYasgui(element, config) {
    const yasgui = new Yasgui(element, {
      requestConfig: { endpoint: config.endpoint, method: "POST" },
      copyEndpointOnNewTab: true,
      yasqe: { autocompleters: ["prefixes", "variables"] }, // the class and property completers ask lov.linkeddata.es
    });
    if (readStorage(EXAMPLES_KEY) === config.examplesVersion) {
      return;
    }
    const persisted = yasgui.persistentConfig;
    const names = new Set(persisted.getTabs().map((id) => (persisted.getTab(id) || {}).name));
    for (const example of config.examples) {
      if (!names.has(example.name)) {
        yasgui.addTab(false, { ...Yasgui.Tab.getDefaults(yasgui), name: example.name, yasqe: { value: example.query } });
      }
    }
    try {
      window.localStorage.setItem(EXAMPLES_KEY, config.examplesVersion);
    } catch {
      // nothing persisted, nothing to remember
    }
  }

  function startGraphiql(element, config) {
    const fetcher = GraphiQL.createFetcher({ url: config.endpoint });
    const props = { fetcher, defaultQuery: config.query, defaultEditorToolsVisibility: true };
    ReactDOM.createRoot(element).render(React.createElement(GraphiQL, props));
  }

  const editors = {
    yasgui: { ready: () => typeof window.Yasgui === "function", start: startYasgui },
    graphiql: {
      ready: () => Boolean(window.React && window.ReactDOM && window.GraphiQL),
      start: startGraphiql,
    },
  };

  document.addEventListener("DOMContentLoaded", () => {
    const editor = editors[document.body.dataset.editor];
    if (!editor || !editor.ready()) {
      showFailure(failed.length ? `not loaded: ${failed.join(", ")}` : "the editor's scripts did not define it");
      return;
    }
    const config = JSON.parse(document.getElementById("editor-config").textContent);
    try {
      editor.start(document.getElementById("editor"), config);
    } catch (error) {
      showFailure(`the editor failed to start: ${error}`);
      throw error;
    }
    started = true;
    document.getElementById("editor-status").hidden = true;
    document.getElementById("editor-failure").hidden = true;
  });

  window.setTimeout(() => {
    if (!started) {
      showFailure(`still not started after ${WAIT_MS / 1000} s`);
    }
  }, WAIT_MS);
})();
