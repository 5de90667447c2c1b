{#- The PDF's first page (mkdocs-print-site-plugin renders it with `config`): the title and which edition
    this is, as on every page of the site (overrides/partials/copyright.html). -#}
{% set edition = config.extra.edition %}
<div class="dnnf-cover">
  <h1>{{ config.site_name }}</h1>
  <p>{{ config.site_description }}</p>
  <p><strong>{{ edition.label }}</strong> &middot; every number and figure computed with dnnf {{ edition.library_version }}
    (commit {{ edition.commit_short }}, {{ edition.date }})</p>
  <p>{{ config.repo_url }} &middot; {{ config.site_url }}</p>
  <p>{{ config.copyright }}</p>
</div>
