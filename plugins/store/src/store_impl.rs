//! `impl_store!`: the [`Store`](crate::Store) impl shared by both backends. The backend
//! type provides a `read` pool and the only backend-specific parts: `writer()` (the
//! connection writes go through), `begin_write`/`begin_append` (how a write transaction
//! starts and how appends are serialised) and `shutdown()`.

macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn deployment(&self, squad: &str) -> Result<$crate::SquadDeployment, $crate::StoreError> {
                use $crate::common::*;
                let deployed_at: Option<i64> =
                    sqlx::query_scalar(SQUAD_DEPLOYED_AT).bind(squad).fetch_optional(&self.read).await?;
                let Some(deployed_at) = deployed_at else {
                    return Err($crate::StoreError::NotFound { what: "squad", name: squad.to_owned() });
                };
                let mut nodes: Vec<String> = sqlx::query_scalar(SQUAD_NODES).bind(squad).fetch_all(&self.read).await?;
                nodes.sort();
                Ok($crate::SquadDeployment { squad: squad.to_owned(), deployed_at, nodes })
            }

            /// The id and revoked flag of a node, once the squad is known to be deployed.
            async fn linkable_node(
                tx: &mut sqlx::Transaction<'_, $db>,
                squad: &str,
                node: &str,
            ) -> Result<(String, bool), $crate::StoreError> {
                use $crate::common::*;
                let deployed: Option<i64> =
                    sqlx::query_scalar(SQUAD_DEPLOYED_AT).bind(squad).fetch_optional(&mut **tx).await?;
                if deployed.is_none() {
                    return Err($crate::StoreError::NotFound { what: "squad", name: squad.to_owned() });
                }
                let found: Option<(String, bool)> =
                    sqlx::query_as(NODE_FOR_LINK).bind(node).fetch_optional(&mut **tx).await?;
                found.ok_or_else(|| $crate::StoreError::NotFound { what: "node", name: node.to_owned() })
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn create_node(
                &self,
                name: &str,
                token_hash: &str,
            ) -> Result<$crate::NodeRecord, $crate::StoreError> {
                use $crate::common::*;
                check_name("node", name)?;
                check_hash(token_hash)?;
                let node = $crate::NodeRecord {
                    id: $crate::token::new_node_id(),
                    name: name.to_owned(),
                    created_at: unix_now(),
                    last_seen: None,
                    version: None,
                    host: None,
                    revoked: false,
                };
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                let inserted = sqlx::query(INSERT_NODE)
                    .bind(&node.id)
                    .bind(&node.name)
                    .bind(token_hash)
                    .bind(node.created_at)
                    .execute(&mut *tx)
                    .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => {
                        Err($crate::StoreError::Exists { what: "node", name: name.to_owned() })
                    }
                    Err(e) => Err(e.into()),
                    Ok(_) => {
                        tx.commit().await?;
                        Ok(node)
                    }
                }
            }

            async fn node_by_name(&self, name: &str) -> Result<Option<$crate::NodeRecord>, $crate::StoreError> {
                let q = sqlx::query_as($crate::common::NODE_BY_NAME).bind(name);
                Ok(q.fetch_optional(&self.read).await?)
            }

            async fn node_by_id(&self, id: &str) -> Result<Option<$crate::NodeRecord>, $crate::StoreError> {
                let q = sqlx::query_as($crate::common::NODE_BY_ID).bind(id);
                Ok(q.fetch_optional(&self.read).await?)
            }

            async fn node_token_hash(&self, id: &str) -> Result<Option<String>, $crate::StoreError> {
                let q = sqlx::query_scalar($crate::common::NODE_TOKEN_HASH).bind(id);
                Ok(q.fetch_optional(&self.read).await?)
            }

            async fn list_nodes(&self) -> Result<Vec<$crate::NodeRecord>, $crate::StoreError> {
                let mut nodes: Vec<$crate::NodeRecord> =
                    sqlx::query_as($crate::common::LIST_NODES).fetch_all(&self.read).await?;
                nodes.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(nodes)
            }

            async fn revoke_node(&self, name: &str) -> Result<$crate::NodeRecord, $crate::StoreError> {
                use $crate::common::*;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                let node: Option<$crate::NodeRecord> =
                    sqlx::query_as(REVOKE_NODE).bind(name).bind(unix_now()).fetch_optional(&mut *tx).await?;
                tx.commit().await?;
                node.ok_or_else(|| $crate::StoreError::NotFound { what: "node", name: name.to_owned() })
            }

            async fn touch_node(
                &self,
                id: &str,
                at: i64,
                version: Option<&str>,
                host: Option<&str>,
            ) -> Result<(), $crate::StoreError> {
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                let done = sqlx::query($crate::common::TOUCH_NODE)
                    .bind(id)
                    .bind(at)
                    .bind(version)
                    .bind(host)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound { what: "node", name: id.to_owned() });
                }
                Ok(())
            }

            async fn deploy_squad(&self, squad: &str, at: i64) -> Result<$crate::SquadDeployment, $crate::StoreError> {
                $crate::common::check_name("squad", squad)?;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                sqlx::query($crate::common::DEPLOY_SQUAD).bind(squad).bind(at).execute(&mut *tx).await?;
                tx.commit().await?;
                self.deployment(squad).await
            }

            async fn list_deployments(&self) -> Result<Vec<$crate::SquadDeployment>, $crate::StoreError> {
                use $crate::common::*;
                let squads: Vec<(String, i64)> = sqlx::query_as(LIST_SQUADS).fetch_all(&self.read).await?;
                let links: Vec<(String, String)> = sqlx::query_as(LIST_LINKS).fetch_all(&self.read).await?;
                Ok(assemble(squads, links))
            }

            async fn link(&self, squad: &str, node_name: &str) -> Result<$crate::SquadDeployment, $crate::StoreError> {
                use $crate::common::*;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                let (node_id, revoked) = Self::linkable_node(&mut tx, squad, node_name).await?;
                if revoked {
                    return Err($crate::StoreError::Invalid(format!(
                        "node `{node_name}` is revoked; create a new node and link that one"
                    )));
                }
                sqlx::query(INSERT_LINK).bind(squad).bind(&node_id).bind(unix_now()).execute(&mut *tx).await?;
                tx.commit().await?;
                self.deployment(squad).await
            }

            async fn unlink(
                &self,
                squad: &str,
                node_name: &str,
            ) -> Result<$crate::SquadDeployment, $crate::StoreError> {
                use $crate::common::*;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                let (node_id, _) = Self::linkable_node(&mut tx, squad, node_name).await?;
                let done = sqlx::query(DELETE_LINK).bind(squad).bind(&node_id).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound {
                        what: "link",
                        name: format!("{squad} -> {node_name}"),
                    });
                }
                tx.commit().await?;
                self.deployment(squad).await
            }

            async fn set_admin_token_hash(&self, hash: &str) -> Result<(), $crate::StoreError> {
                use $crate::common::*;
                check_hash(hash)?;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                sqlx::query(SET_ADMIN).bind(hash).bind(unix_now()).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn admin_token_hash(&self) -> Result<Option<String>, $crate::StoreError> {
                Ok(sqlx::query_scalar($crate::common::ADMIN).fetch_optional(&self.read).await?)
            }

            async fn append_audit(
                &self,
                event: $crate::AuditEvent,
                hasher: &dyn $crate::ChainHasher,
            ) -> Result<$crate::AuditEvent, $crate::StoreError> {
                use $crate::common::*;
                let mut e = prepare_event(event)?;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_append(&mut w).await?;
                let mut head: Option<$crate::AuditCheckpoint> =
                    sqlx::query_as(HEAD_EVENT).fetch_optional(&mut *tx).await?;
                if head.is_none() {
                    head = sqlx::query_as(HEAD_CHECKPOINT).fetch_optional(&mut *tx).await?;
                }
                let (seq, prev) = head.map_or((0, $crate::GENESIS_HASH.to_owned()), |h| (h.seq, h.head_hash));
                e.seq = seq + 1;
                e.prev_hash = prev;
                e.hash = hasher.hash(&e.prev_hash, &$crate::canonical_bytes(&e));
                let inserted = sqlx::query(INSERT_EVENT)
                    .bind(e.seq).bind(&e.id).bind(&e.ts).bind(&e.end_ts).bind(e.duration_ms).bind(&e.kind)
                    .bind(&e.actor).bind(&e.actor_name).bind(&e.platform).bind(&e.channel).bind(&e.conversation)
                    .bind(&e.context).bind(&e.squad).bind(&e.agent).bind(&e.node).bind(&e.tool).bind(&e.command)
                    .bind(&e.args).bind(&e.status).bind(e.exit_code).bind(&e.output).bind(e.output_bytes)
                    .bind(&e.output_sha256).bind(&e.reason).bind(&e.prev_hash).bind(&e.hash)
                    .execute(&mut *tx)
                    .await;
                if let Err(err) = inserted {
                    drop(tx);
                    if is_unique_violation(&err) && self.audit_by_id(&e.id).await?.is_some() {
                        return Err($crate::StoreError::Exists { what: "audit event", name: e.id });
                    }
                    return Err(err.into());
                }
                tx.commit().await?;
                Ok(e)
            }

            async fn list_audit(
                &self,
                filter: &$crate::AuditFilter,
            ) -> Result<Vec<$crate::AuditEvent>, $crate::StoreError> {
                use $crate::common::*;
                let mut qb = sqlx::QueryBuilder::<$db>::new(SELECT_EVENTS);
                if let Some(seq) = filter.since_seq {
                    qb.push(" AND seq > ").push_bind(seq);
                }
                for (column, value) in [
                    (" AND node = ", &filter.node),
                    (" AND squad = ", &filter.squad),
                    (" AND status = ", &filter.status),
                    (" AND actor = ", &filter.actor),
                ] {
                    if let Some(v) = value {
                        qb.push(column).push_bind(v.clone());
                    }
                }
                qb.push(" ORDER BY seq");
                if let Some(limit) = filter.limit {
                    qb.push(" LIMIT ").push_bind(check_limit(limit)?);
                }
                Ok(qb.build_query_as::<$crate::AuditEvent>().fetch_all(&self.read).await?)
            }

            async fn audit_by_id(&self, id: &str) -> Result<Option<$crate::AuditEvent>, $crate::StoreError> {
                let q = sqlx::query_as($crate::common::EVENT_BY_ID).bind(id);
                Ok(q.fetch_optional(&self.read).await?)
            }

            async fn audit_head(&self) -> Result<Option<$crate::AuditCheckpoint>, $crate::StoreError> {
                use $crate::common::*;
                let head: Option<$crate::AuditCheckpoint> =
                    sqlx::query_as(HEAD_EVENT).fetch_optional(&self.read).await?;
                match head {
                    Some(h) => Ok(Some(h)),
                    None => Ok(sqlx::query_as(HEAD_CHECKPOINT).fetch_optional(&self.read).await?),
                }
            }

            async fn record_checkpoint(&self, cp: &$crate::AuditCheckpoint) -> Result<(), $crate::StoreError> {
                use $crate::common::*;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                sqlx::query(INSERT_CHECKPOINT).bind(cp.seq).bind(&cp.head_hash).bind(&cp.ts).execute(&mut *tx).await?;
                let stored: Option<$crate::AuditCheckpoint> =
                    sqlx::query_as(CHECKPOINT_AT).bind(cp.seq).fetch_optional(&mut *tx).await?;
                tx.commit().await?;
                match stored {
                    Some(s) if s.head_hash != cp.head_hash => Err($crate::StoreError::Invalid(format!(
                        "a checkpoint at seq {} already exists with another head hash; run `squadron audit verify`",
                        cp.seq
                    ))),
                    _ => Ok(()),
                }
            }

            async fn list_checkpoints(&self) -> Result<Vec<$crate::AuditCheckpoint>, $crate::StoreError> {
                Ok(sqlx::query_as($crate::common::LIST_CHECKPOINTS).fetch_all(&self.read).await?)
            }

            async fn sink_cursor(&self, sink: &str) -> Result<i64, $crate::StoreError> {
                let q = sqlx::query_scalar($crate::common::SINK_CURSOR).bind(sink);
                let seq: Option<i64> = q.fetch_optional(&self.read).await?;
                Ok(seq.unwrap_or(0))
            }

            async fn set_sink_cursor(&self, sink: &str, seq: i64) -> Result<(), $crate::StoreError> {
                use $crate::common::*;
                check_name("sink", sink)?;
                check_cursor(sink, seq)?;
                let mut w = self.writer().await?;
                let mut tx = Self::begin_write(&mut w).await?;
                sqlx::query(SET_SINK_CURSOR).bind(sink).bind(seq).bind(unix_now()).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn close(&self) {
                self.shutdown().await;
            }
        }
    };
}

pub(crate) use impl_store;
