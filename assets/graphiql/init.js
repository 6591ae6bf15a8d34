// Mounts GraphiQL (UMD globals React, ReactDOM, GraphiQL) into #graphiql.
// Kept in a separate file so the page works under `script-src 'self'`.
(function () {
  'use strict';

  var container = document.getElementById('graphiql');
  // Same-origin endpoint; POST with JSON body {query, variables, operationName}.
  var endpoint = container.getAttribute('data-endpoint') || '/graphql';

  var fetcher = GraphiQL.createFetcher({ url: endpoint });

  var defaultQuery = [
    '# Welcome to GraphiQL. Press Ctrl+Enter (or the run button) to execute.',
    '{',
    '  transformationGoals {',
    '    code',
    '    labelNl',
    '  }',
    '}',
    ''
  ].join('\n');

  var root = ReactDOM.createRoot(container);
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true
    })
  );
})();
