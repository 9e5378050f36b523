// GraphiQL (dev only, served at GET /graphql to a browser), from the vendored bundles: queries go to
// /graphql with the session cookie and the page's CSRF token, like every portal request.
(function startGraphiQL() {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const fetcher = GraphiQL.createFetcher({ url: "/graphql", headers: { "X-CSRF-Token": csrf } });
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();
