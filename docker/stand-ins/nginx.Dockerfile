# Stand-in for nginx:<tag> (the compose file's lb), for machines that cannot
# pull from Docker Hub. Built by build.sh.
# What it is: Debian 12's nginx (1.22, tagged 1.27: older than the tag) with
# nginx-entrypoint.sh, which does what the official image documents for
# templates: every /etc/nginx/templates/*.template is rendered by envsubst
# into /etc/nginx/conf.d/ (without .template) at start, replacing only
# variables defined in the environment; wget for healthchecks; logs to
# stdout/stderr; stops gracefully on SIGQUIT.
# What it is not: the official image (not Alpine, none of its other
# entrypoint scripts, Debian's nginx.conf without the default site).
FROM visitors-stand-in/bookworm:minbase
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       nginx-light gettext-base wget \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx-entrypoint.sh /docker-entrypoint.sh
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
